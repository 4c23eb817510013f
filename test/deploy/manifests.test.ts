/**
 * Deployment files are code too: the compose file must parse (docker-compose v1 `config`, which needs no engine)
 * and every Kubernetes object rendered by kustomize must validate against the Kubernetes schemas
 * (kubernetes-models, generated from the Kubernetes OpenAPI spec; KEDA from its CRDs).
 */
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { toolGate } from '../helpers/tools.js';

// Outside CI these skip when the tool is missing (README, "Tests"); with CI set they fail.
const compose = toolGate('docker-compose');
const kubectl = toolGate('kubectl');

async function modelFor(
  apiVersion: string,
  kind: string,
): Promise<(new (data: unknown) => { validate(): void }) | undefined> {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const path =
    group === 'keda.sh'
      ? `@kubernetes-models/keda/keda.sh/${version}`
      : group
        ? `kubernetes-models/${group}/${version}`
        : `kubernetes-models/${version}`;
  const mod = (await import(path)) as Record<string, new (data: unknown) => { validate(): void }>;
  return mod[kind];
}

describe.skipIf(compose.skip)('docker-compose.yml', () => {
  beforeAll(() => compose.require());
  it('parses with `docker-compose config` and runs migrate before gateway and two workers', () => {
    const out = execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], {
      encoding: 'utf8',
      env: { ...process.env, OPENAI_API_KEY: '' },
    });
    const doc = parseAllDocuments(out)[0]!.toJSON() as { services: Record<string, any> };
    expect(Object.keys(doc.services)).toEqual(
      expect.arrayContaining(['redis', 'cockroach', 'qdrant', 'migrate', 'gateway', 'worker']),
    );
    expect(doc.services.redis.command).toEqual(
      expect.arrayContaining(['--appendonly', 'yes', '--maxmemory-policy', 'noeviction']),
    );
    expect(doc.services.worker.deploy.replicas).toBe(2);
    expect(doc.services.gateway.depends_on.migrate.condition).toBe('service_completed_successfully');
    expect(doc.services.migrate.command).toEqual(['migrate']);
  });
});

describe.skipIf(kubectl.skip)('Kubernetes manifests', () => {
  beforeAll(() => kubectl.require());
  for (const overlay of ['dev', 'prod']) {
    it(`overlay ${overlay}: every object validates against the Kubernetes schemas`, async () => {
      const out = execFileSync('kubectl', ['kustomize', `deploy/overlays/${overlay}`], { encoding: 'utf8' });
      const objects = parseAllDocuments(out).map(
        (d) => d.toJSON() as { apiVersion: string; kind: string; metadata: { name: string } },
      );
      const kinds = new Set(objects.map((o) => o.kind));
      for (const k of ['Deployment', 'Service', 'Ingress', 'Job', 'ConfigMap', 'PodDisruptionBudget', 'NetworkPolicy'])
        expect(kinds).toContain(k);
      expect(kinds.has('HorizontalPodAutoscaler') || kinds.has('ScaledObject')).toBe(true);
      for (const obj of objects) {
        const Model = await modelFor(obj.apiVersion, obj.kind);
        expect(Model, `${obj.apiVersion} ${obj.kind} has a schema`).toBeDefined();
        expect(() => new Model!(obj).validate(), `${obj.kind}/${obj.metadata.name}`).not.toThrow();
      }
      for (const dep of objects.filter((o) => o.kind === 'Deployment') as any[]) {
        const c = dep.spec.template.spec.containers[0];
        expect(c.livenessProbe.httpGet.path).toBe('/healthz');
        expect(c.readinessProbe.httpGet.path).toBe('/readyz');
        expect(c.resources.requests).toBeDefined();
        expect(dep.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
      }
    });
  }

  it('prod ships the pinned release image, a per-release migration Job, and KEDA with its Redis credentials', () => {
    const out = execFileSync('kubectl', ['kustomize', 'deploy/overlays/prod'], { encoding: 'utf8' });
    const objects = parseAllDocuments(out).map((d) => d.toJSON() as any);
    const images = objects.flatMap(
      (o) => o.spec?.template?.spec?.containers?.map((c: { image: string }) => c.image) ?? [],
    );
    expect(new Set(images)).toEqual(new Set(['ghcr.io/example/chat-gateway:0.1.0']));
    expect(objects.find((o) => o.kind === 'Job').metadata.name).toBe('chat-gateway-migrate-0-1-0');
    const scaled = objects.find((o) => o.kind === 'ScaledObject');
    const auth = objects.find((o) => o.kind === 'TriggerAuthentication');
    expect(scaled.spec.triggers[0].authenticationRef.name).toBe(auth.metadata.name);
    expect(auth.spec.secretTargetRef.map((r: { parameter: string }) => r.parameter).sort()).toEqual([
      'address',
      'password',
    ]);
    expect(objects.some((o) => o.kind === 'HorizontalPodAutoscaler')).toBe(false); // KEDA replaces the HPA
  });

  it('catches an invalid manifest (the validation is real)', async () => {
    const Model = (await modelFor('apps/v1', 'Deployment'))!;
    expect(() =>
      new Model({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'x' },
        spec: { replicas: 'two' },
      }).validate(),
    ).toThrow();
  });
});
