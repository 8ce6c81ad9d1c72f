/**
 * Apicurio Registry in a container, through testcontainers, when a container runtime answers
 * (and the local JVM registry could not start, e.g. without Java 21).
 */
import { performance } from 'node:perf_hooks';
import { containerRuntimeProblem } from './container-runtime.js';
import { secondsSince, type Strategy } from './strategy.js';

const IMAGE = 'apicurio/apicurio-registry:3.3.3';
const HTTP_PORT = 8080;
const CCOMPAT = '/apis/ccompat/v7';

export function containerRegistry(): Strategy {
  return {
    name: 'testcontainers',
    async attempt() {
      const problem = await containerRuntimeProblem();
      if (problem !== null) return problem;
      const start = performance.now();
      const { GenericContainer, Wait } = await import('testcontainers');
      const container = await new GenericContainer(IMAGE)
        .withExposedPorts(HTTP_PORT)
        .withWaitStrategy(Wait.forHttp(`${CCOMPAT}/subjects`, HTTP_PORT).forStatusCode(200))
        .withStartupTimeout(120_000)
        .start();
      return {
        value: `http://${container.getHost()}:${container.getMappedPort(HTTP_PORT)}${CCOMPAT}`,
        how: `${IMAGE} container started by testcontainers in ${secondsSince(start)}`,
        stop: async () => {
          await container.stop();
        },
      };
    },
  };
}
