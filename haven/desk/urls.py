from __future__ import annotations

from django.urls import path

from . import (
    audit_views,
    case_team_views,
    case_views,
    export_views,
    file_views,
    held_views,
    reply_views,
    send_files,
    team_views,
    views,
)

app_name = "desk"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("search/", views.search_view, name="search"),
    path("charts/", views.charts_view, name="charts"),
    path("replies/", reply_views.saved_replies, name="replies"),
    path("replies/<int:reply_id>/edit/", reply_views.edit_saved_reply, name="edit_reply"),
    path("replies/<int:reply_id>/delete/", reply_views.delete_saved_reply, name="delete_reply"),
    path("reminders/<int:reminder_id>/dismiss/", views.dismiss_reminder, name="dismiss"),
    path("settings/", views.settings_view, name="settings"),
    path("audit/", audit_views.organization_audit, name="org_audit"),
    path("held/", held_views.held, name="held"),
    path("held/release/", held_views.release, name="held_release"),
    path("held/discard/", held_views.discard, name="held_discard"),
    path("teams/", team_views.teams, name="teams"),
    path("teams/<int:team_id>/", team_views.team_page, name="team"),
    path("teams/<int:team_id>/members/", team_views.add_member, name="team_add"),
    path("teams/<int:team_id>/members/<int:member_id>/remove/", team_views.remove_member,
         name="team_remove"),
    path("teams/<int:team_id>/default/", team_views.make_default, name="team_default"),
    path("cases/new/", views.new_case, name="new_case"),
    path("cases/<int:number>/", case_views.case_page, name="case"),
    path("cases/<int:number>/deadline/propose/", case_views.propose_deadline, name="propose"),
    path("cases/<int:number>/save/", case_views.case_save, name="save"),
    path("cases/<int:number>/burn/", case_views.burn_case, name="burn"),
    path("cases/<int:number>/team/move/", case_team_views.move, name="case_move"),
    path("cases/<int:number>/team/restrict/", case_team_views.restrict, name="case_restrict"),
    path("cases/<int:number>/team/unrestrict/", case_team_views.unrestrict,
         name="case_unrestrict"),
    path("cases/<int:number>/audit/", case_views.case_audit, name="audit"),
    path("cases.csv", export_views.cases_csv, name="cases_csv"),
    path("cases/<int:number>/export/", export_views.export_case, name="export"),
    path("cases/<int:number>/files/all.zip", file_views.all_files, name="files_zip"),
    path("cases/<int:number>/files/<int:record_id>/<slug:how>/", file_views.open_file,
         name="file"),
    path("cases/<int:number>/reply-with-file/", send_files.reply_with_file, name="reply_file"),
    path("cases/<int:number>/<slug:action>/", case_views.case_action, name="action"),
]
