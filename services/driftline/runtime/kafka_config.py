"""Kafka client configuration from settings: security passes through to every client."""

from __future__ import annotations

import ssl
from typing import Any

from faststream.kafka.security import parse_security
from faststream.security import (
    BaseSecurity,
    SASLPlaintext,
    SASLScram256,
    SASLScram512,
)

from driftline.runtime.settings import KafkaSettings


def _ssl_context(kafka: KafkaSettings) -> ssl.SSLContext | None:
    if not kafka.security_protocol.endswith("SSL"):
        return None
    context = ssl.create_default_context(cafile=kafka.ssl_cafile)
    if kafka.ssl_certfile:
        context.load_cert_chain(kafka.ssl_certfile, kafka.ssl_keyfile)
    return context


def build_security(kafka: KafkaSettings) -> BaseSecurity | None:
    """FastStream security object for the configured protocol and SASL mechanism."""
    context = _ssl_context(kafka)
    use_ssl = context is not None
    if kafka.security_protocol.startswith("SASL"):
        password = kafka.sasl_password.get_secret_value() if kafka.sasl_password else ""
        cls = {
            "PLAIN": SASLPlaintext,
            "SCRAM-SHA-256": SASLScram256,
            "SCRAM-SHA-512": SASLScram512,
        }[kafka.sasl_mechanism or "PLAIN"]
        return cls(kafka.sasl_username or "", password, ssl_context=context, use_ssl=use_ssl)
    if use_ssl:
        return BaseSecurity(ssl_context=context, use_ssl=True)
    return None


def aiokafka_kwargs(kafka: KafkaSettings) -> dict[str, Any]:
    """Keyword arguments for aiokafka producers, consumers and admin clients."""
    kwargs = parse_security(build_security(kafka))
    kwargs.setdefault("security_protocol", "PLAINTEXT")
    kwargs["bootstrap_servers"] = kafka.bootstrap_servers
    kwargs["retry_backoff_ms"] = kafka.retry_backoff_ms
    return kwargs
