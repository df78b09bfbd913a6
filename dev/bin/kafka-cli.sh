#!/usr/bin/env bash
# Runs Apache Kafka's own command-line tools from the jars the stack fetched, against the local broker.
#
#   npm run --silent kafka -- <tool> [options]
#
# Tools: console-producer, console-consumer, topics, consumer-groups, producer-perf-test,
#        consumer-perf-test. --bootstrap-server defaults to KAFKA_BROKERS (or .stack/env, or 127.0.0.1:9092).
#
# Sending an event with a multi-member baggage header: headers.separator is a regex and defaults to ",",
# so "sd-routing-key=k,other=v" makes Kafka abort the line ("No header key separator found in pair
# 'other=v'"); pick a character that never appears in a value:
#   printf 'baggage:sd-routing-key=k,other=v~traceparent:00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\t{"id":"1"}\n' |
#     npm run --silent kafka -- console-producer --topic events \
#       --property parse.headers=true --property headers.separator='~'
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
libs="${STACK_TOOLS_DIR:-$root/.tools}/kafka/libs"
if [ ! -f "$libs/.pom.sha256" ]; then
  echo "Kafka jars missing: run 'npm run setup' (or 'npm run stack -- install') first" >&2
  exit 1
fi
tool="${1:-}"
[ -n "$tool" ] || { sed -n '2,16p' "$0" >&2; exit 2; }
shift
case "$tool" in
  console-producer) main=org.apache.kafka.tools.ConsoleProducer ;;
  console-consumer) main=org.apache.kafka.tools.consumer.ConsoleConsumer ;;
  topics) main=org.apache.kafka.tools.TopicCommand ;;
  consumer-groups) main=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
  producer-perf-test) main=org.apache.kafka.tools.ProducerPerformance ;;
  consumer-perf-test) main=org.apache.kafka.tools.ConsumerPerformance ;;
  *) echo "unknown tool: $tool (see: $0)" >&2; exit 2 ;;
esac
brokers="${KAFKA_BROKERS:-}"
if [ -z "$brokers" ] && [ -f "$root/.stack/env" ]; then
  brokers="$(sed -n 's/^KAFKA_BROKERS=//p' "$root/.stack/env")"
fi
brokers="${brokers:-127.0.0.1:9092}"
extra=()
case " $* " in
  *" --bootstrap-server "*|*" --producer-props "*) ;;
  *) [ "$tool" = producer-perf-test ] || extra=(--bootstrap-server "$brokers") ;;
esac
exec java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
  -Dlog4j2.configurationFile="$root/dev/kafka/log4j2.properties" \
  -cp "$libs/*" "$main" "${extra[@]}" "$@"
