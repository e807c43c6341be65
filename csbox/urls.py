"""URL routes of csbox. Every page requires login (LoginRequiredMiddleware).

"/" lands a CSM on Accounts 360 filtered to their own accounts, everyone
else on all accounts; ops reach the admin from the top bar.
"""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from segments.views import home

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("csbox.api_urls")),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", home, name="home"),
    path("", include("segments.urls")),
]
