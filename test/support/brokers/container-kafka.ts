/**
 * A Kafka broker in a container, through testcontainers, when a container runtime answers.
 * @testcontainers/kafka drives Confluent's images; cp-kafka 7.9 is Apache Kafka 3.9 in KRaft mode.
 */
import { performance } from 'node:perf_hooks';
import { containerRuntimeProblem } from './container-runtime.js';
import { secondsSince, type Strategy } from './strategy.js';

const IMAGE = 'confluentinc/cp-kafka:7.9.0';
const KAFKA_PORT = 9093;

export function containerKafka(): Strategy {
  return {
    name: 'testcontainers',
    async attempt() {
      const problem = await containerRuntimeProblem();
      if (problem !== null) return problem;
      const start = performance.now();
      const { KafkaContainer } = await import('@testcontainers/kafka');
      const container = await new KafkaContainer(IMAGE).withKraft().start();
      return {
        value: `${container.getHost()}:${container.getMappedPort(KAFKA_PORT)}`,
        how: `${IMAGE} container started by testcontainers in ${secondsSince(start)}`,
        stop: async () => {
          await container.stop();
        },
      };
    },
  };
}
