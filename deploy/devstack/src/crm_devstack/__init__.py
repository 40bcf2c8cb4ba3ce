"""The local stack for `make run` and the tests: Kafka, a MongoDB-compatible server, an SMTP sink.

Each runs as a real server (a child process, or a thread for the SMTP sink) on
loopback ports; nothing here is a mock.
"""

from crm_devstack.inbox import InboxServer
from crm_devstack.kafka import KafkaNode, ensure_kafka_libs
from crm_devstack.mongo import MongoNode
from crm_devstack.process import NodeStartError, free_port
from crm_devstack.smtp_sink import SmtpSink
from crm_devstack.tools import MissingToolError

__all__ = [
    "InboxServer",
    "KafkaNode",
    "MissingToolError",
    "MongoNode",
    "NodeStartError",
    "SmtpSink",
    "ensure_kafka_libs",
    "free_port",
]
