"""Wire contracts shared by the DINAMIS services: topics, CloudEvent types, payload schemas.

Rules (STYLE.md): topic ``<domain>.<entity>.events.v<major>``; event type
``fr.dinamis.<domain>.<entity>.<past-tense-verb>.v<major>``; additive changes keep the
version, breaking ones publish ``.v2`` beside ``.v1``; consumers ignore unknown fields.
"""
