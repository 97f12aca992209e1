"""The receiver's errors: each carries the HTTP status it is answered with (caught in one place)."""


class WebhookError(Exception):
    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class PayloadError(WebhookError):
    """The body or its headers are malformed: 400."""

    status = 400


class SignatureError(WebhookError):
    """Missing, unknown-method or wrong signature, or no secret configured: 401."""

    status = 401


class ContentTypeError(WebhookError):
    status = 415


class TooLargeError(WebhookError):
    status = 413
