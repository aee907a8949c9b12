"""An uploaded org chart waiting for the admin to look at the preview and apply it."""

from django.conf import settings
from django.db import models

from .fields import PublicIdField
from .organisation import Organisation


class ChartUpload(models.Model):
    public_id = PublicIdField()
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=255)
    data = models.BinaryField()
    # The chart as read once at upload (services/organisation/chart.py chart_to_json), so looking at
    # the preview again never parses the file again.
    parsed = models.JSONField(null=True, blank=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)
