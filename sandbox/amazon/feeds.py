"""Feeds API 2021-06-30 plus the presigned document URLs (the twin plays S3 for them).

A feed sits IN_QUEUE for `feed_queue_seconds`, is IN_PROGRESS for `feed_processing_seconds` (both divided
by `rate_scale`, on the twin's clock) and is then processed: DONE with a processing report, or FATAL.
Processing happens lazily when any request arrives after the feed's end time.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import uuid
from datetime import datetime, timedelta

from flask import Blueprint, Response, g, request

from .clock import iso, iso_ms, parse_iso
from .feed_xml import process_document
from .query import SearchQuery, decode_token, encode_token
from .spapi import current_state, invalid_input, json_response, not_found, query_list, request_json, sp_operation
from .store import Document, Feed, TwinState

bp = Blueprint("amazon_feeds", __name__)

MODEL = "feeds_2021-06-30"
URL_LIFETIME = timedelta(minutes=5)
PROCESSING_STATUSES = {"CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE"}
REPORT_CONTENT_TYPE = "text/xml; charset=UTF-8"


def advance_feeds(state: TwinState) -> None:
    """Process every feed whose processing time has passed."""
    now = state.clock.now()
    with state.lock:
        due = [f for f in state.feeds.values() if f.outcome is None and f.cancelled_at is None and now >= f.end_at]
        for feed in sorted(due, key=lambda f: f.end_at):
            document = state.documents.get(feed.input_document_id)
            outcome, report = process_document(state, feed.seller_id, feed.feed_id, feed.feed_type,
                                               document.data if document else None, feed.end_at)
            result = _new_document(state, feed.seller_id, REPORT_CONTENT_TYPE, kind="result")
            result.data = report
            if state.config.gzip_reports:
                result.data, result.compression = gzip.compress(report, mtime=0), "GZIP"
            feed.outcome = outcome
            feed.result_document_id = result.document_id
        if due:
            state.save()


def _new_document(state: TwinState, seller_id: str, content_type: str, kind: str = "input") -> Document:
    now = state.clock.now()
    document = Document(document_id=str(uuid.uuid4()), seller_id=seller_id, content_type=content_type,
                        created_at=now, url_expires_at=now + URL_LIFETIME, kind=kind)
    state.documents[document.document_id] = document
    return document


def _signature(state: TwinState, method: str, document_id: str, expires: int, content_type: str,
               encoding: str = "") -> str:
    message = f"{method}\n{document_id}\n{expires}\n{' '.join(content_type.split())}\n{encoding}".encode()
    return hmac.new(state.secret, message, hashlib.sha256).hexdigest()


def _document_url(state: TwinState, document: Document, method: str, encoding: str = "") -> str:
    expires = int((state.clock.now() + URL_LIFETIME).timestamp())
    content_type = document.content_type if method == "PUT" else ""
    signature = _signature(state, method, document.document_id, expires, content_type, encoding)
    extra = f"&response-content-encoding={encoding}" if encoding else ""
    return (f"{request.host_url}_s3/feed-documents/{document.document_id}"
            f"?X-Amz-Expires={expires}{extra}&X-Amz-Signature={signature}")


def feed_json(feed: Feed, now: datetime) -> dict:
    status = feed.status(now)
    out: dict = {"feedId": feed.feed_id, "feedType": feed.feed_type, "marketplaceIds": feed.marketplace_ids,
                 "createdTime": iso_ms(feed.created_at), "processingStatus": status}
    if status in ("IN_PROGRESS", "DONE", "FATAL"):
        out["processingStartTime"] = iso_ms(feed.start_at)
    if status in ("DONE", "FATAL"):
        out["processingEndTime"] = iso_ms(feed.end_at)
    if status == "CANCELLED" and feed.cancelled_at is not None:
        out["processingEndTime"] = iso_ms(feed.cancelled_at)
    if feed.result_document_id and status in ("DONE", "FATAL"):
        out["resultFeedDocumentId"] = feed.result_document_id
    return out


# -- documents ----------------------------------------------------------------------------------------

@bp.post("/feeds/2021-06-30/documents")
@sp_operation("createFeedDocument", MODEL, "createFeedDocument")
def create_feed_document() -> Response:
    state = current_state()
    body = request_json()
    content_type = body.get("contentType") if isinstance(body, dict) else None
    if not isinstance(content_type, str) or not content_type.strip():
        return invalid_input("Invalid input", "contentType is required.")
    with state.lock:
        document = _new_document(state, g.seller_id, content_type.strip())
        url = _document_url(state, document, "PUT")
    return json_response({"feedDocumentId": document.document_id, "url": url}, 201)


@bp.get("/feeds/2021-06-30/documents/<feedDocumentId>")
@sp_operation("getFeedDocument", MODEL, "getFeedDocument")
def get_feed_document(feedDocumentId: str) -> Response:  # noqa: N803
    state = current_state()
    with state.lock:
        document = state.documents.get(feedDocumentId)
        if document is None or document.seller_id != g.seller_id:
            return not_found(f"The feed document {feedDocumentId} was not found.")
        # enableContentEncodingUrlHeader=true: the URL answers with Content-Encoding: gzip
        wants_header = request.args.get("enableContentEncodingUrlHeader", "").lower() == "true"
        encoding = "gzip" if wants_header and document.compression == "GZIP" else ""
        url = _document_url(state, document, "GET", encoding)
    body = {"feedDocumentId": feedDocumentId, "url": url}
    if document.compression:
        body["compressionAlgorithm"] = document.compression
    return json_response(body)


def s3_error(status: int, code: str, message: str) -> Response:
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
            f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId></Error>")
    return Response(body, status=status, mimetype="application/xml")


@bp.route("/_s3/feed-documents/<document_id>", methods=["PUT", "GET"])
def document_url(document_id: str) -> Response:
    """The presigned URL: PUT needs the Content-Type given to createFeedDocument, as S3's signature does."""
    state = current_state()
    try:
        expires = int(request.args.get("X-Amz-Expires", ""))
    except ValueError:
        return s3_error(403, "AccessDenied", "Query-string authentication requires the Signature and "
                                             "Expires parameters")
    signature = request.args.get("X-Amz-Signature", "")
    content_type = request.headers.get("Content-Type", "") if request.method == "PUT" else ""
    encoding = request.args.get("response-content-encoding", "")
    expected = _signature(state, request.method, document_id, expires, content_type, encoding)
    if not hmac.compare_digest(signature, expected):
        return s3_error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the "
                                                      "signature you provided. Check your key and signing "
                                                      "method.")
    if state.clock.now().timestamp() > expires:
        return s3_error(403, "AccessDenied", "Request has expired")
    with state.lock:
        document = state.documents.get(document_id)
        if document is None:
            return s3_error(404, "NoSuchKey", "The specified key does not exist.")
        if request.method == "PUT":
            if document.kind != "input":
                return s3_error(403, "AccessDenied", "Access Denied")
            document.data = request.get_data()
            etag = hashlib.md5(document.data, usedforsecurity=False).hexdigest()
            return Response(status=200, headers={"ETag": f'"{etag}"'})
        response = Response(document.data or b"", status=200, content_type=document.content_type)
        if encoding:
            response.headers["Content-Encoding"] = encoding
        return response


# -- feeds --------------------------------------------------------------------------------------------

@bp.post("/feeds/2021-06-30/feeds")
@sp_operation("createFeed", MODEL, "createFeed")
def create_feed() -> Response:
    state = current_state()
    body = request_json()
    if not isinstance(body, dict):
        return invalid_input("Invalid input", "A JSON body is required.")
    feed_type = body.get("feedType")
    marketplaces = body.get("marketplaceIds")
    document_id = body.get("inputFeedDocumentId")
    options = body.get("feedOptions") or {}
    if not isinstance(feed_type, str) or not feed_type:
        return invalid_input("Invalid input", "feedType is required.")
    if not isinstance(marketplaces, list) or not 1 <= len(marketplaces) <= 25 or \
            not all(isinstance(m, str) and m for m in marketplaces):
        return invalid_input("Invalid input", "marketplaceIds must contain 1 to 25 marketplace IDs.")
    if not isinstance(document_id, str) or not document_id:
        return invalid_input("Invalid input", "inputFeedDocumentId is required.")
    if not isinstance(options, dict) or not all(isinstance(v, str) for v in options.values()):
        return invalid_input("Invalid input", "feedOptions values must be strings.")
    with state.lock:
        document = state.documents.get(document_id)
        if document is None or document.seller_id != g.seller_id or document.kind != "input":
            return invalid_input("Invalid input", f"Invalid inputFeedDocumentId: {document_id}.")
        now = state.clock.now()
        start = now + timedelta(seconds=state.config.scaled(state.config.feed_queue_seconds))
        end = start + timedelta(seconds=state.config.scaled(state.config.feed_processing_seconds))
        feed = Feed(feed_id=state.next_feed_id(), seller_id=g.seller_id, feed_type=feed_type,
                    marketplace_ids=list(marketplaces), input_document_id=document_id, created_at=now,
                    start_at=start, end_at=end, feed_options=dict(options))
        state.feeds[feed.feed_id] = feed
    return json_response({"feedId": feed.feed_id}, 202)


@bp.get("/feeds/2021-06-30/feeds/<feedId>")
@sp_operation("getFeed", MODEL, "getFeed")
def get_feed(feedId: str) -> Response:  # noqa: N803
    state = current_state()
    with state.lock:
        feed = state.feeds.get(feedId)
        if feed is None or feed.seller_id != g.seller_id:
            return not_found(f"The feed {feedId} was not found.")
        return json_response(feed_json(feed, state.clock.now()))


@bp.delete("/feeds/2021-06-30/feeds/<feedId>")
@sp_operation("cancelFeed", MODEL, "cancelFeed")
def cancel_feed(feedId: str) -> Response:  # noqa: N803
    state = current_state()
    with state.lock:
        feed = state.feeds.get(feedId)
        if feed is None or feed.seller_id != g.seller_id:
            return not_found(f"The feed {feedId} was not found.")
        now = state.clock.now()
        status = feed.status(now)
        if status != "IN_QUEUE":
            return invalid_input("Invalid input", f"Only feeds with processingStatus IN_QUEUE can be "
                                                  f"cancelled; feed {feedId} is {status}.")
        feed.cancelled_at = now
    return Response(status=200)


@bp.get("/feeds/2021-06-30/feeds")
@sp_operation("getFeeds", MODEL, "getFeeds")
def get_feeds() -> Response:
    state = current_state()
    now = state.clock.now()
    token = request.args.get("nextToken")
    if token:
        if any(k != "nextToken" for k in request.args):
            return invalid_input("Invalid input", "nextToken must be the only parameter.")
        query = decode_token(token, state.secret, now)
        if isinstance(query, Response):
            return query
    else:
        feed_types = query_list("feedTypes")
        if not feed_types:
            return invalid_input("Invalid input", "Either feedTypes or nextToken is required.")
        marketplaces = query_list("marketplaceIds")
        statuses = query_list("processingStatuses")
        if len(feed_types) > 10 or (marketplaces is not None and not 1 <= len(marketplaces) <= 10):
            return invalid_input("Invalid input", "feedTypes and marketplaceIds take 1 to 10 values.")
        if statuses is not None and (not statuses or set(statuses) - PROCESSING_STATUSES):
            return invalid_input("Invalid input", "Invalid processingStatuses.")
        try:
            size = int(request.args.get("pageSize", "10"))
        except ValueError:
            size = 0
        if not 1 <= size <= 100:
            return invalid_input("Invalid input", "pageSize must be between 1 and 100.")
        try:
            since = parse_iso(request.args["createdSince"]) if request.args.get("createdSince") \
                else now - timedelta(days=90)
            until = parse_iso(request.args["createdUntil"]) if request.args.get("createdUntil") else now
        except ValueError:
            return invalid_input("Invalid input", "createdSince and createdUntil must be ISO 8601 date-times.")
        query = SearchQuery(mode="feeds", after=iso_ms(since), before=iso_ms(until),
                            filters={"feedTypes": feed_types, "marketplaceIds": marketplaces,
                                     "processingStatuses": statuses, "pageSize": [str(size)]},
                            expires=iso(now + timedelta(hours=24)))
    f = query.filters
    size = int((f.get("pageSize") or ["10"])[0])
    since, until = parse_iso(query.after), parse_iso(query.before)
    with state.lock:
        matching = [
            feed for feed in state.feeds.values()
            if feed.seller_id == g.seller_id and feed.feed_type in (f.get("feedTypes") or [])
            and since <= feed.created_at <= until
            and (not f.get("marketplaceIds") or set(feed.marketplace_ids) & set(f["marketplaceIds"]))
            and (not f.get("processingStatuses") or feed.status(now) in f["processingStatuses"])
        ]
        matching.sort(key=lambda feed: (feed.created_at, int(feed.feed_id)), reverse=True)
        if query.last:
            matching = [feed for feed in matching
                        if (iso_ms(feed.created_at), int(feed.feed_id)) < (query.last[0], int(query.last[1]))]
        chunk = matching[:size]
        body: dict = {"feeds": [feed_json(feed, now) for feed in chunk]}
    if len(matching) > size:
        query.last = [iso_ms(chunk[-1].created_at), chunk[-1].feed_id]
        body["nextToken"] = encode_token(query, state.secret, now)
    return json_response(body)
