import os
import pwd

from django.conf import settings
from django.http import HttpResponse, JsonResponse

from .models import Note

# The deploy may drop a RELEASE file at the project root. Read once at import time; a daemon
# reload imports the project again and so picks up a new one.
try:
    RELEASE = (settings.BASE_DIR / "RELEASE").read_text(encoding="utf-8").strip()
except FileNotFoundError:
    RELEASE = "dev"


def index(request):
    return JsonResponse(
        {
            "app": "django-example",
            "notes": Note.objects.count(),
            "release": RELEASE,
            "user": pwd.getpwuid(os.getuid()).pw_name,
        }
    )


def healthz(request):
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")
