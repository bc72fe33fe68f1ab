"""Amazon's processing reports are untrusted XML: a report with a DTD, an entity bomb or an external entity is
refused with a sentence that says so, before anything is expanded or read."""

from __future__ import annotations

import pytest

from bridge.amazon.feeds import FeedReportError, parse_processing_report

BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
    + b"".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(8))
    + b"]><AmazonEnvelope><ProcessingReport><StatusCode>&i;</StatusCode></ProcessingReport></AmazonEnvelope>"
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/hostname">]>'
    b"<AmazonEnvelope><ProcessingReport><StatusCode>&secret;</StatusCode></ProcessingReport></AmazonEnvelope>"
)
EXTERNAL_DTD = (
    b'<?xml version="1.0"?><!DOCTYPE AmazonEnvelope SYSTEM "http://127.0.0.1:1/evil.dtd">'
    b"<AmazonEnvelope><ProcessingReport><StatusCode>Complete</StatusCode></ProcessingReport></AmazonEnvelope>"
)


@pytest.mark.parametrize("report", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD],
                         ids=["entity bomb", "external entity", "external DTD"])
def test_a_report_with_a_dtd_or_entities_is_refused_in_one_sentence(report):
    with pytest.raises(FeedReportError) as refused:
        parse_processing_report(report)
    message = str(refused.value)
    assert message.startswith("processing report refused: it declares a DTD, an entity or an external reference")
    assert "Traceback" not in message and "aaaa" not in message


def test_a_report_in_another_case_or_as_text_is_refused_too():
    with pytest.raises(FeedReportError):
        parse_processing_report(EXTERNAL_ENTITY.decode())
    with pytest.raises(FeedReportError):  # not XML at all (doctype must be upper case), still one clear error
        parse_processing_report(b'<?xml version="1.0"?><!doctype x SYSTEM "file:///etc/passwd"><x/>')


def test_a_plain_report_still_reads():
    report = parse_processing_report(
        b'<?xml version="1.0"?><AmazonEnvelope><Message><ProcessingReport><StatusCode>Complete</StatusCode>'
        b"<ProcessingSummary><MessagesProcessed>1</MessagesProcessed><MessagesSuccessful>1</MessagesSuccessful>"
        b"</ProcessingSummary></ProcessingReport></Message></AmazonEnvelope>"
    )
    assert (report.status_code, report.processed, report.successful) == ("Complete", 1, 1)
