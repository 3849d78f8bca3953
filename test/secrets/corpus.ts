import { createHash } from 'node:crypto';

/**
 * Realistic fake secrets, each embedded the way it shows up in a log line, an event or a fact, and
 * look-alikes that must survive redaction untouched. The values are generated from a seed at load
 * time (right shape, random content), so no credential-shaped literal sits in the repository for a
 * scanner to trip over, and no value is real.
 */

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const ALNUM = UPPER + LOWER + DIGITS;
const B64 = `${ALNUM}+/`;
const URLSAFE = `${ALNUM}_-`;
const HEX = '0123456789abcdef';

let counter = 0;
/** A deterministic pseudo-random string of `length` characters from `alphabet`. */
export function fake(alphabet: string, length: number, seed = `s${counter++}`): string {
  let out = '';
  let block = Buffer.alloc(0);
  let round = 0;
  while (out.length < length) {
    if (block.length === 0) block = createHash('sha256').update(`${seed}:${round++}`).digest();
    out += alphabet[(block[0] ?? 0) % alphabet.length];
    block = block.subarray(1);
  }
  return out;
}

export interface SecretSample {
  kind: string;
  /** The secret itself: it must not survive redaction. */
  secret: string;
  /** The line it sits in. */
  line: string;
}

function pem(kind: string): string {
  const body = Array.from({ length: 6 }, (_, i) => fake(B64, 64, `${kind}${i}`)).join('\n');
  return `-----BEGIN ${kind}PRIVATE KEY-----\nMII${body}\n-----END ${kind}PRIVATE KEY-----`;
}

const jwt = `eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJ${fake(URLSAFE, 80)}.${fake(URLSAFE, 86)}`;
const anthropic = `sk-ant-api03-${fake(URLSAFE, 93)}AA`;
const openai = `sk-proj-${fake(URLSAFE, 74)}T3BlbkFJ${fake(URLSAFE, 74)}`;
const basic = Buffer.from(`deploy:${fake(ALNUM, 14)}`).toString('base64');
const gcpKey = pem('');

export const SECRET_CORPUS: readonly SecretSample[] = [
  ((s) => ({ kind: 'aws access key id', secret: s, line: `assumed role with key ${s} for s3:GetObject` }))(
    `AKIA${fake('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`,
  ),
  ((s) => ({ kind: 'aws secret access key', secret: s, line: `aws_secret_access_key = ${s}` }))(
    fake(B64, 40),
  ),
  ((s) => ({ kind: 'aws session token', secret: s, line: `AWS_SESSION_TOKEN=${s}` }))(
    `IQoJb3JpZ2luX2Vj${fake(B64, 180)}`,
  ),
  ((s) => ({ kind: 'gcp api key', secret: s, line: `GET /maps/api/geocode/json?key=${s} 403` }))(
    `AIza${fake(URLSAFE, 35)}`,
  ),
  ((s) => ({
    kind: 'gcp service account private key',
    secret: s.split('\n')[3] ?? '',
    line: `{"type":"service_account","private_key":"${s.replaceAll('\n', '\\n')}\\n","client_email":"reef@p.iam.gserviceaccount.com"}`,
  }))(gcpKey),
  ((s) => ({ kind: 'gcp oauth client secret', secret: s, line: `GOOGLE_CLIENT_SECRET=${s}` }))(
    `GOCSPX-${fake(URLSAFE, 28)}`,
  ),
  ((s) => ({ kind: 'gcp access token', secret: s, line: `metadata token refreshed: ${s}` }))(
    `ya29.a0${fake(URLSAFE, 120)}`,
  ),
  ((s) => ({
    kind: 'azure storage connection string',
    secret: s,
    line: `DefaultEndpointsProtocol=https;AccountName=reefbackups;AccountKey=${s};EndpointSuffix=core.windows.net`,
  }))(`${fake(B64, 86)}==`),
  ((s) => ({
    kind: 'azure sas url',
    secret: s,
    line: `PUT https://reef.blob.core.windows.net/backups/db.tgz?sv=2022-11-02&ss=b&srt=o&sp=rw&se=2026-01-01&sig=${s}`,
  }))(`${fake(ALNUM, 40)}%3D`),
  ((s) => ({
    kind: 'azure ad client secret',
    secret: s,
    line: `client_credentials grant failed for secret "${s}"`,
  }))(`${fake(ALNUM, 3)}8Q~${fake(`${ALNUM}_~.-`, 34)}`),
  ((s) => ({
    kind: 'github classic token',
    secret: s,
    line: `git clone https://x-access-token@github.com/acme/app (token ${s})`,
  }))(`ghp_${fake(ALNUM, 36)}`),
  ((s) => ({ kind: 'github fine-grained token', secret: s, line: `GH_TOKEN ${s} rejected` }))(
    `github_pat_${fake(ALNUM, 22)}_${fake(ALNUM, 59)}`,
  ),
  ((s) => ({
    kind: 'github app installation token',
    secret: s,
    line: `installation token ${s} expires in 1h`,
  }))(`ghs_${fake(ALNUM, 36)}`),
  ((s) => ({ kind: 'gitlab personal token', secret: s, line: `PRIVATE-TOKEN: ${s}` }))(
    `glpat-${fake(URLSAFE, 20)}`,
  ),
  ((s) => ({ kind: 'gitlab runner token', secret: s, line: `runner registered with ${s}` }))(
    `glrt-${fake(URLSAFE, 20)}`,
  ),
  ((s) => ({ kind: 'slack bot token', secret: s, line: `slack client init token=${s}` }))(
    `xoxb-${fake(DIGITS, 12)}-${fake(DIGITS, 13)}-${fake(ALNUM, 24)}`,
  ),
  ((s) => ({ kind: 'slack user token', secret: s, line: `using ${s} for chat.postMessage` }))(
    `xoxp-${fake(DIGITS, 12)}-${fake(DIGITS, 12)}-${fake(DIGITS, 13)}-${fake(HEX, 32)}`,
  ),
  ((s) => ({ kind: 'slack webhook', secret: s, line: `POST ${s} -> 200` }))(
    `https://hooks.slack.com/services/T${fake(UPPER + DIGITS, 8)}/B${fake(UPPER + DIGITS, 10)}/${fake(ALNUM, 24)}`,
  ),
  ((s) => ({ kind: 'stripe secret key', secret: s, line: `stripe.Charge.create failed (key ${s})` }))(
    `sk_live_${fake(ALNUM, 99)}`,
  ),
  ((s) => ({ kind: 'stripe restricted key', secret: s, line: `STRIPE_KEY="${s}"` }))(
    `rk_live_${fake(ALNUM, 24)}`,
  ),
  ((s) => ({ kind: 'stripe webhook secret', secret: s, line: `verifying signature with ${s}` }))(
    `whsec_${fake(ALNUM, 32)}`,
  ),
  ((s) => ({ kind: 'anthropic api key', secret: s, line: `anthropic client created with ${s}` }))(anthropic),
  ((s) => ({ kind: 'openai api key', secret: s, line: `OPENAI_API_KEY=${s}` }))(openai),
  ((s) => ({ kind: 'npm token', secret: s, line: `npm publish with ${s}` }))(`npm_${fake(ALNUM, 36)}`),
  ((s) => ({ kind: 'npmrc auth token', secret: s, line: `//registry.npmjs.org/:_authToken=${s}` }))(
    `${fake(HEX, 8)}-${fake(HEX, 4)}-${fake(HEX, 4)}-${fake(HEX, 4)}-${fake(HEX, 12)}`,
  ),
  ((s) => ({ kind: 'rsa private key', secret: s.split('\n')[2] ?? '', line: `loaded key:\n${s}\n` }))(
    pem('RSA '),
  ),
  ((s) => ({ kind: 'openssh private key', secret: s.split('\n')[2] ?? '', line: s }))(pem('OPENSSH ')),
  ((s) => ({
    kind: 'ec private key cut off in a log',
    secret: s.split('\n')[2] ?? '',
    line: s.slice(0, 250),
  }))(pem('EC ')),
  ((s) => ({ kind: 'jwt', secret: s, line: `kube token ${s} rejected: 401` }))(jwt),
  ((s) => ({
    kind: 'password in url',
    secret: s,
    line: `fetching https://deploy:${s}@artifacts.internal.net/app.tgz`,
  }))(fake(ALNUM, 14)),
  ((s) => ({
    kind: 'postgres connection string',
    secret: s,
    line: `DATABASE_URL=postgres://app:${s}@db.internal:5432/app`,
  }))(fake(ALNUM, 18)),
  ((s) => ({
    kind: 'mongodb srv connection string',
    secret: s,
    line: `connect mongodb+srv://reef:${s}@cluster0.ab1cd.mongodb.net/prod`,
  }))(fake(ALNUM, 16)),
  ((s) => ({
    kind: 'redis url password',
    secret: s,
    line: `redis error on redis://:${s}@cache:6379/0: READONLY`,
  }))(fake(ALNUM, 20)),
  ((s) => ({
    kind: 'password= pair',
    secret: s,
    line: `login attempt user=admin password=${s} from 10.0.0.7`,
  }))(`${fake(ALNUM, 10)}!#`),
  ((s) => ({ kind: 'secret: pair (yaml)', secret: s, line: `  webhookSecret: ${s}` }))(fake(ALNUM, 24)),
  ((s) => ({ kind: 'json password field', secret: s, line: `{"user":"svc","password":"${s}","db":"app"}` }))(
    `${fake(ALNUM, 8)} ${fake(ALNUM, 6)}`,
  ),
  ((s) => ({ kind: 'bearer header', secret: s, line: `> Authorization: Bearer ${s}` }))(fake(URLSAFE, 40)),
  ((s) => ({
    kind: 'bearer in curl',
    secret: s,
    line: `curl -H "Authorization: Bearer ${s}" https://api.internal/v1`,
  }))(fake(ALNUM, 32)),
  ((s) => ({ kind: 'basic auth header', secret: s, line: `authorization: Basic ${s}` }))(basic),
  ((s) => ({ kind: 'high-entropy token env', secret: s, line: `export DATADOG_API_KEY=${s}` }))(
    fake(HEX, 32),
  ),
  ((s) => ({
    kind: 'client secret pair',
    secret: s,
    line: `oauth client_secret=${s}&grant_type=client_credentials`,
  }))(fake(URLSAFE, 34)),
  ((s) => ({ kind: 'sendgrid key', secret: s, line: `mail send failed using ${s}` }))(
    `SG.${fake(URLSAFE, 22)}.${fake(URLSAFE, 43)}`,
  ),
  ((s) => ({ kind: 'twilio api key', secret: s, line: `twilio sid ${s}` }))(`SK${fake(HEX, 32)}`),
  ((s) => ({ kind: 'vault token', secret: s, line: `VAULT_TOKEN=${s}` }))(`hvs.${fake(URLSAFE, 95)}`),
  ((s) => ({ kind: 'docker hub pat', secret: s, line: `docker login -u reef -p ${s}` }))(
    `dckr_pat_${fake(URLSAFE, 27)}`,
  ),
  ((s) => ({ kind: 'huggingface token', secret: s, line: `HF_HUB_TOKEN: ${s}` }))(
    `hf_${fake(UPPER + LOWER, 34)}`,
  ),
  ((s) => ({ kind: 'digitalocean token', secret: s, line: `doctl auth init --access-token ${s}` }))(
    `dop_v1_${fake(HEX, 64)}`,
  ),
  ((s) => ({
    kind: 'mysql password flag',
    secret: s,
    line: `mysqldump --user=backup --password '${s}' app`,
  }))(`${fake(ALNUM, 12)}$%`),
  ((s) => ({ kind: 'cookie header', secret: s, line: `Cookie: session=${s}; theme=dark` }))(
    fake(URLSAFE, 48),
  ),
  ((s) => ({
    kind: 'ado.net connection string',
    secret: s,
    line: `Server=sql1;Database=app;User Id=sa;Password=${s};`,
  }))(`${fake(ALNUM, 12)}@!`),
  ((s) => ({ kind: 'telegram bot token', secret: s, line: `alerting via bot ${s}` }))(
    `${fake(DIGITS, 10)}:AA${fake(URLSAFE, 33)}`,
  ),
  ((s) => ({ kind: 'age secret key', secret: s, line: `# created: 2025-01-01\n${s}` }))(
    `AGE-SECRET-KEY-1${fake('QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L', 58)}`,
  ),
];

const pngData = `data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk${fake(B64, 200)}=`;

/** Things that look a little like secrets in an ops log and must come through unchanged. */
export const LOOK_ALIKES: readonly string[] = [
  `commit ${fake(HEX, 40)} (HEAD -> main)`,
  `deployed revision ${fake(HEX, 7)} to prod`,
  `request 3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b finished in 35ms`,
  `uid: 8d3c1f0e-5b7a-4c2e-9f1d-0a2b3c4d5e6f`,
  `<img src="${pngData}">`,
  'pod api-7d9f8b6c4d-x2x9z in namespace apps: OOMKilled (restarts 7)',
  'Back-off restarting failed container web in pod web-6c5b9d7f8-qz8mt_apps(1c2d3e4f-aaaa-bbbb-cccc-0123456789ab)',
  `image: ghcr.io/acme/api@sha256:${fake(HEX, 64)}`,
  `containerID: containerd://${fake(HEX, 64)}`,
  `trace_id=${fake(HEX, 32)} span_id=${fake(HEX, 16)}`,
  'GET https://api.example.org/v1/items?page=2&limit=50 200 12ms',
  'connecting to redis://127.0.0.1:6379/0',
  'postgres://db.internal:5432/app is read-only',
  'ssh reef@10.0.0.5 -p 2222: connection refused',
  'mail from alerts@example.org to ops@example.org queued',
  '2025-06-01T12:34:56.789Z resourceVersion=183745 generation=12',
  'llm usage tokens_in=1234 tokens_out=567 cost_usd=0.0123',
  '  secretName: api-tls',
  'tls: { secretName: shop-tls, hosts: [shop.example.org] }',
  'Authorization failed for user bob: missing role',
  `ETag: "${fake(HEX, 40)}"`,
  'key=cache:user:42 hit=true',
  '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2VydGlmaWNhdGUgZm9yIHRlc3Rpbmc\n-----END CERTIFICATE-----',
  `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${fake(B64, 43)} reef@bastion`,
  'segfault at 0x7ffd5fbff8a0 ip 00007f3a2b1c4d5e sp 00007ffd5fbff890 error 4',
  'disk-full on web-1:/var (92%), largest: /var/log/nginx 4.1G',
  'session ended after 30s',
  'the token expired; re-authenticating',
  'password reset email sent to user 42',
  'kubectl.kubernetes.io/restartedAt: "2025-06-01T12:00:00Z"',
];
