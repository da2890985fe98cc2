"""Errors of the knowledge domain, each with its own code."""

from __future__ import annotations

from kefu.core.errors import Conflict, Forbidden, InvalidInput, NotFound


class ArticleNotFound(NotFound):
    code = "article_not_found"


class VersionNotFound(NotFound):
    code = "version_not_found"


class IllegalTransition(Conflict):
    code = "illegal_transition"


class VersionConflict(Conflict):
    """An edit based on a version that is no longer the latest (someone else saved first)."""

    code = "version_conflict"


class CampaignEnded(Conflict):
    code = "campaign_ended"


class OutOfScope(Forbidden):
    code = "knowledge_out_of_scope"


class EmptyQuery(InvalidInput):
    code = "empty_query"


class QueryTooLong(InvalidInput):
    code = "query_too_long"


class InvalidArticle(InvalidInput):
    code = "invalid_article"


class TopicNotFound(NotFound):
    code = "push_not_found"


class QuestionNotFound(NotFound):
    code = "question_not_found"


class AnswerNotFound(NotFound):
    code = "answer_not_found"


class QAConflict(Conflict):
    code = "qa_conflict"
