#!/usr/bin/env python3
"""A downstream subscriber of tracefold.detections.v1 (confluent-kafka and its Avro
deserializer): reads the topic from the beginning up to where it ended when the run
started, keeps one tenant's detections, and prints how many stand:

    {"tenant":"<id>","detections":<count>,"ids":["<id>",...]}   (ids sorted)

Rules (docs/subscribers.md): read_committed; a record whose `withdrawn` is null or absent
is upserted by `id`, one whose `withdrawn` is set deletes that id.

    python count_detections.py --brokers 127.0.0.1:9092 \\
        --registry http://127.0.0.1:8081/apis/ccompat/v7 --tenant <tenant id> \\
        [--timeout-ms 120000]

Needs `confluent-kafka[avro]` (test/fixtures/python/requirements-subscriber.txt pins it
with everything it pulls in). Exits 1 with a message on stderr when the end is not
reached within --timeout-ms, 2 on bad arguments. Nothing is committed: the partitions are
assigned, not subscribed to, so no group is joined.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import uuid

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

TOPIC = "tracefold.detections.v1"


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="count_detections", description=__doc__.split("\n\n")[0])
    parser.add_argument("--brokers", required=True, help="bootstrap servers, host:port[,...]")
    parser.add_argument("--registry", required=True, help="schema registry URL (Confluent API)")
    parser.add_argument("--tenant", required=True, help="the tenant id whose detections are counted")
    parser.add_argument("--timeout-ms", type=int, default=120_000, help="give up after this long (default 120000)")
    args = parser.parse_args()
    if args.tenant == "" or "/" in args.tenant:
        parser.error('--tenant: a tenant id is not empty and has no "/"')
    if not args.registry.startswith(("http://", "https://")):
        parser.error("--registry: an http(s) URL")
    if args.timeout_ms <= 0:
        parser.error("--timeout-ms: a positive whole number of milliseconds")
    return args


def main() -> int:
    args = options()
    deadline = time.monotonic() + args.timeout_ms / 1000

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"{TOPIC} not read to its end within {args.timeout_ms} ms")
        return left

    consumer = Consumer(
        {
            "bootstrap.servers": args.brokers,
            # Required by the client; never joined (assign below) and nothing is committed.
            "group.id": f"count-detections-{uuid.uuid4()}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            # An event when a partition's position reaches its end: the position then counts
            # the transaction markers that never show as messages.
            "enable.partition.eof": True,
        }
    )
    deserialize = AvroDeserializer(SchemaRegistryClient({"url": args.registry}))
    context = SerializationContext(TOPIC, MessageField.VALUE)
    prefix = f"{args.tenant}/".encode("utf-8")
    standing: set[str] = set()
    try:
        metadata = consumer.list_topics(TOPIC, timeout=remaining())
        topic = metadata.topics.get(TOPIC)
        if topic is None or topic.error is not None:
            raise KafkaException(topic.error if topic is not None else f"no topic {TOPIC}")
        # Where each partition ends now, as a read_committed reader sees it (the last stable
        # offset; the high watermark when no transaction is open). Every unit ends with a
        # transaction marker, so the end is reached when the position gets there, markers
        # included, never with the last message's offset + 1.
        ends: dict[int, int] = {}
        pending: set[int] = set()
        for partition in sorted(topic.partitions):
            low, high = consumer.get_watermark_offsets(TopicPartition(TOPIC, partition), timeout=remaining(), cached=False)
            ends[partition] = high
            # A partition with nothing to read (never written, or emptied by retention) is done at once.
            if high > low:
                pending.add(partition)
        consumer.assign([TopicPartition(TOPIC, p, OFFSET_BEGINNING) for p in sorted(pending)])

        while pending:
            message = consumer.poll(min(1.0, remaining()))
            if message is None:
                pending -= reached(consumer, pending, ends)
                continue
            partition = message.partition()
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    if message.offset() >= ends[partition]:
                        pending.discard(partition)
                    continue
                if error.fatal():
                    raise KafkaException(error)
                # The client retries by itself (a broker restarting, a leader moving).
                print(f"count_detections: {error}", file=sys.stderr)
                continue
            # Past the end taken at the start: later records are not part of this count.
            if message.offset() >= ends[partition]:
                pending.discard(partition)
                continue
            # The tenant from the key (`<tenant>/<trace>`), before anything is decoded.
            key = message.key()
            if key is not None and len(key) > len(prefix) and key.startswith(prefix) and message.value() is not None:
                detection = deserialize(message.value(), context)
                if detection.get("withdrawn") is None:
                    standing.add(detection["id"])
                else:
                    standing.discard(detection["id"])
            if message.offset() + 1 >= ends[partition]:
                pending.discard(partition)
    except (TimeoutError, KafkaException) as err:
        print(f"count_detections: {err}", file=sys.stderr)
        return 1
    finally:
        consumer.close()

    ids = sorted(standing)
    print(json.dumps({"tenant": args.tenant, "detections": len(ids), "ids": ids}, separators=(",", ":")), flush=True)
    return 0


def reached(consumer: Consumer, pending: set[int], ends: dict[int, int]) -> set[int]:
    """The pending partitions whose position (markers included) is at their end."""
    positions = consumer.position([TopicPartition(TOPIC, p) for p in sorted(pending)])
    return {tp.partition for tp in positions if tp.offset >= 0 and tp.offset >= ends[tp.partition]}


if __name__ == "__main__":
    sys.exit(main())
