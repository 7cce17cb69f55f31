"""A title saved with a line break, before titles were checked, no longer breaks a review."""

from __future__ import annotations

from sqlalchemy import update

from academy.courses.models import LessonRevision
from academy.extensions import db
from tests.test_cases import open_for_review, review_form, signed_in, submit, write
from tests.test_cases import trainer as trainer  # a fixture, requested by name


def test_a_review_of_a_case_whose_title_has_a_line_break_is_saved_and_mailed(
    app, client, learner, trainer, case_lesson, query, mailbox
):
    # The review email's subject names the title: a line break there was a 500 on every
    # review of the case.
    submit(client)
    write(
        query,
        lambda: db.session.execute(
            update(LessonRevision)
            .where(LessonRevision.lesson_id == case_lesson.id)
            .values(title="Caso: la plaza\nBcc: otra@evil.example")
        ),
    )
    reviewer = signed_in(app, trainer)
    submission = open_for_review(reviewer, query, learner)
    response = reviewer.post(f"/revision/{submission.id}", data=review_form(submission, "aprobar"))
    assert response.status_code == 302, response.text
    message = mailbox.last_to(learner.email)
    assert "Caso: la plaza Bcc: otra@evil.example" in message["Subject"]
    assert message["Bcc"] is None
