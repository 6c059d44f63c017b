// One short "who" cell for `airlock sessions ls`, from the claims a session recorded.
function s(claims: Readonly<Record<string, unknown>>, k: string): string | null {
  const v = claims[k];
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : null;
}

/** GitHub: `acme/app#123456 run 1001.1 push by octocat`; GitLab: `group/proj#42 pipeline 7 job 9 by alice`. */
export function whoCell(claims: Readonly<Record<string, unknown>>): string {
  const parts: string[] = [];
  const repo = s(claims, 'repository');
  const project = s(claims, 'project_path');
  if (repo) parts.push(`${repo}${s(claims, 'repository_id') ? `#${s(claims, 'repository_id')}` : ''}`);
  else if (project) parts.push(`${project}${s(claims, 'project_id') ? `#${s(claims, 'project_id')}` : ''}`);
  if (s(claims, 'run_id')) parts.push(`run ${s(claims, 'run_id')}${s(claims, 'run_attempt') ? `.${s(claims, 'run_attempt')}` : ''}`);
  if (s(claims, 'pipeline_id')) parts.push(`pipeline ${s(claims, 'pipeline_id')}`);
  if (s(claims, 'job_id')) parts.push(`job ${s(claims, 'job_id')}`);
  if (s(claims, 'event_name')) parts.push(s(claims, 'event_name')!);
  const actor = s(claims, 'actor') ?? s(claims, 'user_login');
  if (actor) parts.push(`by ${actor}`);
  return parts.join(' ') || '-';
}
