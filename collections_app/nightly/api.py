"""GET /api/jobs/runs/: nightly run history (management tier; counts only, no PHI)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView

from collections_app.models import JobRun
from collections_app.nightly.views import runs_for
from core.access import FieldGroup


class JobRunFilterSerializer(serializers.Serializer):
    job = serializers.CharField(required=False, allow_blank=True, max_length=60)
    status = serializers.ChoiceField(choices=JobRun.Status.choices, required=False)
    as_of = serializers.DateField(required=False)


class JobRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = JobRun
        fields = [
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
        ]
        read_only_fields = fields


@extend_schema(parameters=[JobRunFilterSerializer])
class JobRunListApi(ListAPIView):
    """Nightly job runs, newest date first; filter by `job`, `status` and `as_of`."""

    field_group = FieldGroup.MANAGEMENT
    serializer_class = JobRunSerializer
    queryset = JobRun.objects.none()

    def get_queryset(self):
        filters = JobRunFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        runs = runs_for(filters.validated_data.get("job", ""))
        if "status" in filters.validated_data:
            runs = runs.filter(status=filters.validated_data["status"])
        if "as_of" in filters.validated_data:
            runs = runs.filter(as_of=filters.validated_data["as_of"])
        return runs
