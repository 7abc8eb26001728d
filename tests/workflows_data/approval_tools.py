"""Tools for the approval tests: each says what it did, so a test sees whether it ran."""

from agents import function_tool


@function_tool
def send_email(to: str, subject: str) -> str:
    """Send an email.

    Args:
        to: The recipient.
        subject: The subject line.
    """
    return f"Sent '{subject}' to {to}."
