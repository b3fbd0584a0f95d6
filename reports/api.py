"""The reports' JSON API: `/api/reports/` (the reports your tier may run) and `/api/reports/<slug>/`
(also `?format=csv|pdf`), the same run as the page.

Parameters are validated by the report's own form (reports.framework.ReportForm): a 400 with field
errors keyed by the query parameter's name, a practice outside the user's scope included.
"""

from django.http import Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from core.access import FieldGroup, check_field_group
from core.api_support import Api
from reports.framework import Report, get_report, reports_for, run_as_json, run_report
from reports.views import export_response


class ReportListOutput(serializers.Serializer):
    slug = serializers.CharField(help_text="The report's name in `/api/reports/{slug}/`.")
    title = serializers.CharField()
    description = serializers.CharField()
    field_group = serializers.CharField(help_text="The field group a user needs to run it.")
    period = serializers.ChoiceField(
        choices=[
            (Report.PERIOD_RANGE, "A period: `from` and `to`"),
            (Report.PERIOD_AS_OF, "One date: `as_of`"),
            (Report.PERIOD_NONE, "No date"),
        ]
    )
    url = serializers.SerializerMethodField()

    def get_url(self, report) -> str:
        return reverse("api-report", args=[report.slug])


class ReportListApi(Api):
    """The reports your tier may run, in the order of the reports page."""

    field_group = FieldGroup.MANAGEMENT

    @extend_schema(summary="List the reports you may run", responses=ReportListOutput(many=True))
    def get(self, request):
        return self.respond(ReportListOutput, reports_for(request.user), many=True)


class ReportApi(Api):
    field_group = FieldGroup.MANAGEMENT  # the floor; initial() checks the report's own as well

    def perform_content_negotiation(self, request, force=False):
        # `?format=csv|pdf` picks the export, not a DRF renderer; every other answer is JSON.
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.report = get_report(kwargs["slug"])
        if self.report is None:
            raise Http404("No such report.")
        check_field_group(request.user, self.report.field_group)

    @extend_schema(
        parameters=[
            OpenApiParameter("practice", int, many=True, description="Practice ids; none: all of yours."),
            OpenApiParameter("from", str, description="Period start, YYYY-MM-DD (reports over a period)."),
            OpenApiParameter("to", str, description="Period end, YYYY-MM-DD, included."),
            OpenApiParameter("as_of", str, description="As-of date, YYYY-MM-DD (aging and balances)."),
            OpenApiParameter("format", str, enum=["json", "csv", "pdf"]),
        ],
        summary="Run a report: JSON, or a CSV or PDF file",
        responses={
            (200, "application/json"): dict,
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/pdf"): OpenApiTypes.BINARY,
            400: dict,
        },
    )
    def get(self, request, slug):
        fmt = request.query_params.get("format", "json")
        if fmt not in ("json", "csv", "pdf"):
            return Response({"format": ["Choose json, csv or pdf."]}, status=status.HTTP_400_BAD_REQUEST)
        run = run_report(self.report, user=request.user, data=request.query_params, fmt=fmt)
        if not run.ok:
            return Response(run.form.api_errors(), status=status.HTTP_400_BAD_REQUEST)
        if fmt != "json":
            return export_response(run, fmt)
        return Response(run_as_json(run))
