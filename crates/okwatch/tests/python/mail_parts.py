"""Reads the messages of a maildir as a mail client would (Python's email package decodes
folded and RFC 2231 headers) and prints them as JSON: headers and parts, with the text of
each text part."""
import email
import email.policy
import json
import pathlib
import sys

messages = []
for path in sorted(pathlib.Path(sys.argv[1], "new").iterdir()):
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    parts = []
    for part in message.walk():
        if part.is_multipart():
            continue
        parts.append(
            {
                "content_type": part.get_content_type(),
                "filename": part.get_filename(),
                "attachment": part.get_content_disposition() == "attachment",
                "text": part.get_content() if part.get_content_maintype() == "text" else None,
            }
        )
    messages.append(
        {
            "subject": str(message["subject"]),
            "to": str(message["to"] or ""),
            "parts": parts,
        }
    )
print(json.dumps(messages))
