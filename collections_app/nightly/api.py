"""GET /api/jobs/runs/: nightly run history (management tier; counts only, no PHI, so no audit row)."""

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers

from collections_app.models import JobRun
from collections_app.nightly.views import runs_for
from core.access import FieldGroup
from core.api_support import Api, FieldGroupSerializerMixin, StrictPageNumberPagination

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
