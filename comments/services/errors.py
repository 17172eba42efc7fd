"""The refusals the comments services raise; views and APIs turn each into an answer."""


class CommentError(Exception):
    """A refusal the caller turns into an answer (the message is for the reader)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CommentsClosed(CommentError):
    pass


class DuplicateComment(CommentError):
    pass


class CommentFlood(CommentError):
    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InvalidTransition(CommentError):
    pass


class EditNotAllowed(CommentError):
    """The author's edit token is missing, wrong, or for another comment."""


class EditTooLate(CommentError):
    """The comment may no longer be changed by its author; ``code`` says why."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code
