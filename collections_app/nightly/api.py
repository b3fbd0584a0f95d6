"""GET /api/jobs/: the nightly jobs; GET /api/jobs/runs/ and /api/jobs/runs/<id>/: their run history
(management tier; counts only, no PHI, so no audit row)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers

from collections_app.models import JobRun
from collections_app.nightly.views import runs_for
from core.access import FieldGroup
from core.api_support import Api, FieldGroupSerializerMixin, StrictPageNumberPagination
from core.nightly import registered_jobs

MANAGEMENT = FieldGroup.MANAGEMENT


class JobRunFilterInput(serializers.Serializer):
    job = serializers.CharField(required=False, allow_blank=True, max_length=60)
    status = serializers.ChoiceField(choices=JobRun.Status.choices, required=False)
    as_of = serializers.DateField(required=False)


# The schema component keeps the name it was published under (clients generate types from it).
@extend_schema_serializer(component_name="JobRun")
class JobRunOutput(FieldGroupSerializerMixin, serializers.ModelSerializer):
    field_groups = {
        MANAGEMENT: (
            "id",
            "job",
            "as_of",
            "status",
            "started_at",
            "finished_at",
            "duration_ms",
            "attempts",
            "progress_done",
            "progress_total",
            "counts",
            "error",
        )
    }

    class Meta:
        model = JobRun


class JobRunListApi(Api):
    """Nightly job runs, newest date first; filter by `job`, `status` and `as_of`."""

    field_group = MANAGEMENT
    pagination_class = StrictPageNumberPagination

    @extend_schema(parameters=[JobRunFilterInput], responses=JobRunOutput(many=True))
    def get(self, request):
        filters = self.valid_query(JobRunFilterInput)
        runs = runs_for(filters.get("job", ""))
        if "status" in filters:
            runs = runs.filter(status=filters["status"])
        if "as_of" in filters:
            runs = runs.filter(as_of=filters["as_of"])
        page = self.paginate(runs)
        return self.paginated_response(JobRunOutput(page, many=True, context={"request": request}).data)


class JobRunDetailApi(Api):
    """One nightly job run: its counts, progress and error."""

    field_group = MANAGEMENT

    @extend_schema(responses=JobRunOutput)
    def get(self, request, pk):
        return self.respond(JobRunOutput, get_object_or_404(JobRun, pk=pk))


@extend_schema_serializer(component_name="NightlyJob")
class NightlyJobOutput(FieldGroupSerializerMixin, serializers.Serializer):
    field_groups = {MANAGEMENT: ("name", "description", "order")}

    name = serializers.CharField(help_text="What `job` names in the runs and in `run_nightly --job`.")
    description = serializers.CharField()
    order = serializers.IntegerField(help_text="Jobs run in this order each night, lowest first.")


class NightlyJobListApi(Api):
    """The nightly jobs in the order they run each night."""

    field_group = MANAGEMENT

    @extend_schema(responses=NightlyJobOutput(many=True))
    def get(self, request):
        return self.respond(NightlyJobOutput, registered_jobs(), many=True)
