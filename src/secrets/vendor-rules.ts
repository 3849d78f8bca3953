import type { SecretRule } from './secret-rule.js';

/**
 * Rules for credentials with a recognisable shape of their own (a vendor prefix, a fixed length, a
 * PEM armour), so they are found anywhere, with no key name around them. Patterns are ported from
 * gitleaks' `config/gitleaks.toml` (v8) and secretlint's recommended preset (v12); `origin` says
 * which. secretlint's own scan also runs in `scan.ts`; these copies exist because redaction must be
 * synchronous and because the preset leaves some shapes out (AWS key ids are off by default there,
 * Stripe, Azure, Google API keys, JWTs and bearer tokens are not in it at all).
 */

/** Start of a token: not preceded by a letter, digit, `_` or `-` (so `xsk-…` is not `sk-…`). */
const START = '(?<![A-Za-z0-9_-])';
/** End of a token made of `[A-Za-z0-9_-]`. */
const END = '(?![A-Za-z0-9_-])';

function rule(
  id: string,
  description: string,
  source: string,
  origin: SecretRule['origin'],
  extra: Partial<Pick<SecretRule, 'group' | 'accept'>> = {},
  flags = 'g',
): SecretRule {
  return { id, description, pattern: new RegExp(source, `${flags}d`), origin, ...extra };
}

export const VENDOR_RULES: readonly SecretRule[] = [
  rule(
    'private-key',
    'a private key (PEM block)',
    String.raw`-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:\\?\r?\n?[A-Za-z-]+: [^\n\\]*)*(?:[A-Za-z0-9+/=\\]|\r?\n[ \t]*)*(?:-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----)?`,
    'gitleaks',
  ),
  rule(
    'aws-access-key',
    'an AWS access key id',
    String.raw`\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16})\b`,
    'gitleaks',
  ),
  rule(
    'aws-secret-key',
    'an AWS secret access key',
    String.raw`["']?(?:AWS|aws|Aws)?_?(?:SECRET|secret|Secret)_?(?:ACCESS|access|Access)_?(?:KEY|key|Key)["']?\s*(?::|=>|=)\s*["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])`,
    'secretlint',
    { group: 1 },
  ),
  rule('gcp-api-key', 'a Google API key', `${START}(AIza[A-Za-z0-9_-]{35})${END}`, 'gitleaks'),
  rule(
    'gcp-oauth-secret',
    'a Google OAuth client secret',
    `${START}(GOCSPX-[A-Za-z0-9_-]{28})${END}`,
    'gitleaks',
  ),
  rule(
    'gcp-access-token',
    'a Google OAuth access token',
    String.raw`${START}(ya29\.[A-Za-z0-9_-]{20,})${END}`,
    'reef',
  ),
  rule(
    'azure-storage-key',
    'an Azure storage or Service Bus shared key',
    String.raw`(?:AccountKey|SharedAccessKey|PrimaryKey|SecondaryKey)\s*=\s*([A-Za-z0-9+/]{30,100}={0,2})`,
    'reef',
    { group: 1 },
    'gi',
  ),
  rule('azure-sas-signature', 'an Azure SAS signature', `[?&;]sig=([A-Za-z0-9%+/=]{20,})`, 'reef', {
    group: 1,
  }),
  rule(
    'azure-ad-client-secret',
    'an Azure AD client secret',
    String.raw`(?:^|[\\'"\x60\s>=:(,)])([a-zA-Z0-9_~.]{3}\dQ~[a-zA-Z0-9_~.-]{31,34})(?=$|[\\'"\x60\s<),])`,
    'gitleaks',
    { group: 1 },
  ),
  rule(
    'github-token',
    'a GitHub token',
    `${START}((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{36,255})${END}`,
    'gitleaks',
  ),
  rule(
    'github-fine-grained-token',
    'a GitHub fine-grained personal access token',
    `${START}(github_pat_[A-Za-z0-9_]{82})${END}`,
    'gitleaks',
  ),
  rule(
    'gitlab-token',
    'a GitLab token',
    `${START}((?:glpat|glrt|gldt|glptt|glcbt|glft|gloas|glsoat|glimt|glffct|glagent)-[A-Za-z0-9_-]{20,})${END}`,
    'gitleaks',
  ),
  rule(
    'slack-token',
    'a Slack token',
    String.raw`${START}((?:xoxb|xoxp|xapp|xoxa|xoxo|xoxr|xoxe|xoxs)-(?:\d-)?(?:[A-Za-z0-9]{1,40}-)+[A-Za-z0-9]{1,40})${END}`,
    'secretlint',
  ),
  rule(
    'slack-webhook',
    'a Slack incoming-webhook URL',
    String.raw`https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{20,}`,
    'secretlint',
  ),
  rule(
    'discord-webhook',
    'a Discord webhook URL',
    String.raw`https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_-]{30,}`,
    'reef',
  ),
  rule(
    'stripe-key',
    'a Stripe secret or restricted key',
    `${START}((?:sk|rk)_(?:test|live|prod)_[A-Za-z0-9]{10,99})${END}`,
    'gitleaks',
  ),
  rule(
    'stripe-webhook-secret',
    'a Stripe webhook signing secret',
    `${START}(whsec_[A-Za-z0-9]{24,})${END}`,
    'reef',
  ),
  rule(
    'anthropic-key',
    'an Anthropic API key',
    String.raw`${START}(sk-ant-(?:api|admin|sid)\d{2}-[A-Za-z0-9_-]{32,})${END}`,
    'gitleaks',
  ),
  rule(
    'openai-key',
    'an OpenAI API key',
    `${START}(sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}|sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|sk-[A-Za-z0-9]{40,})${END}`,
    'secretlint',
  ),
  rule('npm-token', 'an npm access token', `${START}(npm_[A-Za-z0-9]{36})${END}`, 'secretlint'),
  rule(
    'npm-auth-token',
    'an npm registry auth token (.npmrc)',
    String.raw`_auth(?:Token)?\s*=\s*([^\s$'"][^\s'"]{7,})`,
    'secretlint',
    { group: 1 },
  ),
  rule(
    'pypi-token',
    'a PyPI upload token',
    `${START}(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})${END}`,
    'gitleaks',
  ),
  rule(
    'jwt',
    'a JSON Web Token',
    String.raw`${START}(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}={0,2})(?![A-Za-z0-9_=-])`,
    'gitleaks',
  ),
  rule(
    'sendgrid-key',
    'a SendGrid API key',
    String.raw`${START}(SG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64})${END}`,
    'secretlint',
  ),
  rule('twilio-key', 'a Twilio API key', String.raw`\b(SK[0-9a-fA-F]{32})\b`, 'gitleaks'),
  rule('mailgun-key', 'a Mailgun API key', `${START}(key-[0-9a-f]{32})${END}`, 'gitleaks'),
  rule(
    'shopify-token',
    'a Shopify token',
    `${START}((?:shppa|shpca|shpat|shpss)_[A-Fa-f0-9]{32,64})${END}`,
    'secretlint',
  ),
  rule('huggingface-token', 'a Hugging Face token', `${START}(hf_[A-Za-z]{34})${END}`, 'secretlint'),
  rule('groq-key', 'a Groq API key', `${START}(gsk_[A-Za-z0-9]{52})${END}`, 'secretlint'),
  rule('linear-key', 'a Linear API key', `${START}(lin_api_[A-Za-z0-9_]{32,128})${END}`, 'secretlint'),
  rule('notion-token', 'a Notion token', `${START}(ntn_[0-9]{11}[A-Za-z0-9]{35})${END}`, 'secretlint'),
  rule(
    'grafana-token',
    'a Grafana token',
    `${START}(glc_[A-Za-z0-9+/]{32,400}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})(?![A-Za-z0-9+/=_-])`,
    'secretlint',
  ),
  rule(
    'vault-token',
    'a HashiCorp Vault token',
    String.raw`${START}(hv[sbr]\.[A-Za-z0-9_-]{90,300})${END}`,
    'secretlint',
  ),
  rule(
    'docker-pat',
    'a Docker Hub personal access token',
    `${START}(dckr_pat_[A-Za-z0-9_-]{27})${END}`,
    'secretlint',
  ),
  rule('digitalocean-token', 'a DigitalOcean token', `${START}(do[opr]_v1_[a-f0-9]{64})${END}`, 'gitleaks'),
  rule(
    'databricks-token',
    'a Databricks token',
    String.raw`${START}(dapi[a-f0-9]{32}(?:-\d)?)${END}`,
    'secretlint',
  ),
  rule(
    'vercel-token',
    'a Vercel token',
    `${START}((?:vcp|vci|vca|vcr|vck)_[A-Za-z0-9]{20,60})${END}`,
    'secretlint',
  ),
  rule('figma-token', 'a Figma token', `${START}(figd_[A-Za-z0-9_-]{40,200})${END}`, 'secretlint'),
  rule(
    'onepassword-token',
    'a 1Password service-account token',
    `${START}(ops_ey[A-Za-z0-9+/=]{100,1280})(?![A-Za-z0-9+/=])`,
    'secretlint',
  ),
  rule(
    'age-secret-key',
    'an age secret key',
    `AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}`,
    'gitleaks',
  ),
  rule(
    'telegram-bot-token',
    'a Telegram bot token',
    `(?<![0-9])([0-9]{8,10}:AA[A-Za-z0-9_-]{33})${END}`,
    'gitleaks',
  ),
  rule('heroku-key', 'a Heroku API key', `${START}(HRKU-[A-Za-z0-9_-]{60})${END}`, 'gitleaks'),
];
