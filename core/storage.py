"""Where stored PHI documents live: uploaded letters and import files, statements and print files."""

from django.conf import settings
from django.core.files.storage import FileSystemStorage


def private_storage():
    """Stored PHI documents live outside MEDIA/STATIC and are served only by audited views.

    A callable (not a storage instance) so migrations refer to it by name instead of freezing the
    settings' path into the migration file; keep the name and the signature: migrations reference
    it (older ones as `collections_app.models.private_storage`, which re-exports it). Files 0600 and
    folders 0700 whatever FILE_UPLOAD_PERMISSIONS says: only the app's user reads them."""
    return FileSystemStorage(
        location=settings.PRIVATE_MEDIA_ROOT,
        base_url=None,
        file_permissions_mode=0o600,
        directory_permissions_mode=0o700,
    )
