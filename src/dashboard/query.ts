// Server-side filtering and paging of the dashboard's lists (pure): the
// browser only ever receives one page, so 5,000 jobs never ship whole.
import { JOB_STATES, type DashData, type DashInstance, type DashJob, type JobStatus } from './model';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;
/** A name filter longer than any job name matches nothing anyway; this bounds the work. */
const MAX_QUERY_CHARS = 200;

export interface Page<T> {
  /** Items matching the filter, before paging. */
  total: number;
  offset: number;
  limit: number;
  items: T[];
}

export interface PageParams {
  offset: number;
  limit: number;
}

/** offset/limit from a query string: non-negative integers, limit capped; garbage falls back to the defaults. */
export function pageParams(q: URLSearchParams): PageParams {
  const int = (name: string, dflt: number): number => {
    const raw = q.get(name);
    if (raw === null || !/^\d{1,9}$/.test(raw)) return dflt;
    return Number(raw);
  };
  return { offset: int('offset', 0), limit: Math.max(1, Math.min(MAX_LIMIT, int('limit', DEFAULT_LIMIT))) };
}

export function paginate<T>(items: readonly T[], p: PageParams): Page<T> {
  // Past the end: the last page, so a list that shrank under the reader still shows something.
  const offset = items.length === 0 ? 0 : p.offset >= items.length ? Math.floor((items.length - 1) / p.limit) * p.limit : p.offset;
  return { total: items.length, offset, limit: p.limit, items: items.slice(offset, offset + p.limit) };
}

/** The name filter: case-insensitive substring, trimmed; empty matches all. */
export function nameFilter(q: URLSearchParams): string {
  return (q.get('q') ?? '').trim().toLowerCase().slice(0, MAX_QUERY_CHARS);
}

export interface JobQuery extends PageParams {
  q: string;
  state: JobStatus | 'rejected' | 'cron' | 'autoscaled' | '';
}

export function jobQuery(q: URLSearchParams): JobQuery {
  const s = q.get('state') ?? '';
  const state = (JOB_STATES as readonly string[]).includes(s) || s === 'rejected' || s === 'cron' || s === 'autoscaled' ? (s as JobQuery['state']) : '';
  return { ...pageParams(q), q: nameFilter(q), state };
}

export function matchesJob(j: DashJob, query: Pick<JobQuery, 'q' | 'state'>): boolean {
  if (query.q && !j.name.toLowerCase().includes(query.q)) return false;
  switch (query.state) {
    case '':
      return true;
    case 'rejected':
      return j.rejected;
    case 'cron':
      return j.type === 'cron';
    case 'autoscaled':
      return j.autoscale !== null;
    default:
      return j.status === query.state;
  }
}

export function queryJobs(d: DashData, query: JobQuery): Page<DashJob> {
  const all = query.q === '' && query.state === '' ? d.jobs : d.jobs.filter((j) => matchesJob(j, query));
  return paginate(all, query);
}

export interface InstanceQuery extends PageParams {
  /** One job's instances (exact name), or every instance when empty. */
  job: string;
  q: string;
  /** An instance state (healthy, pending, unhealthy, starting...), or `not-healthy`: everything but healthy. */
  state: string;
}

export function instanceQuery(q: URLSearchParams): InstanceQuery {
  const state = (q.get('state') ?? '').slice(0, 40);
  return { ...pageParams(q), job: (q.get('job') ?? '').slice(0, MAX_QUERY_CHARS), q: nameFilter(q), state: /^[a-z-]*$/.test(state) ? state : '' };
}

export function queryInstances(d: DashData, query: InstanceQuery): Page<DashInstance> {
  const base = query.job ? (d.instancesByJob.get(query.job) ?? []) : d.allInstances;
  const all =
    query.q === '' && query.state === ''
      ? base
      : base.filter(
          (i) =>
            (query.q === '' || i.instance.toLowerCase().includes(query.q)) &&
            (query.state === '' || (query.state === 'not-healthy' ? i.state !== 'healthy' : i.state === query.state)),
        );
  return paginate(all, query);
}
