from __future__ import annotations

from django.urls import path

from scorecards import views

app_name = "scorecards"
urlpatterns = [
    path("", views.scorecard_home, name="home"),
]
