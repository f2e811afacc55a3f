from __future__ import annotations

from django.urls import path

from . import audit_views, case_views, document_views, file_views, held_views, views

app_name = "desk"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("search/", views.search_view, name="search"),
    path("charts/", views.charts_view, name="charts"),
    path("replies/", views.saved_replies, name="replies"),
    path("replies/<int:reply_id>/delete/", views.delete_saved_reply, name="delete_reply"),
    path("reminders/<int:reminder_id>/dismiss/", views.dismiss_reminder, name="dismiss"),
    path("settings/", views.settings_view, name="settings"),
    path("audit/", audit_views.organization_audit, name="org_audit"),
    path("held/", held_views.held, name="held"),
    path("held/release/", held_views.release, name="held_release"),
    path("held/discard/", held_views.discard, name="held_discard"),
    path("cases/new/", views.new_case, name="new_case"),
    path("cases/<int:number>/", case_views.case_page, name="case"),
    path("cases/<int:number>/deadline/propose/", case_views.propose_deadline, name="propose"),
    path("cases/<int:number>/save/", case_views.case_save, name="save"),
    path("cases/<int:number>/burn/", case_views.burn_case, name="burn"),
    path("cases/<int:number>/audit/", case_views.case_audit, name="audit"),
    path("cases/<int:number>/files/all.zip", file_views.all_files, name="files_zip"),
    path("cases/<int:number>/files/<int:record_id>/<slug:how>/", file_views.open_file,
         name="file"),
    path("cases/<int:number>/documents/<slug:document>/", document_views.document_page,
         name="document"),
    path("cases/<int:number>/documents/<slug:document>/do/", document_views.document_action,
         name="document_action"),
    path("cases/<int:number>/<slug:action>/", case_views.case_action, name="action"),
]
