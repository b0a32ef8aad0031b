// Formatting of the API's values for people: numbers and dates in the
// browser's locale, days in UTC (the pipeline's days are UTC days), and
// the LMS's profile codes as words.

const numberFmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const percentFmt = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 });
const dayFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });
const monthFmt = new Intl.DateTimeFormat(undefined, { month: 'short', year: 'numeric', timeZone: 'UTC' });
const longMonthFmt = new Intl.DateTimeFormat(undefined, { month: 'long', year: 'numeric', timeZone: 'UTC' });
const timeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export const DASH = '—';

/** num formats a count or measure; null is a dash. */
export function num(n) {
  return n === null || n === undefined || Number.isNaN(n) ? DASH : numberFmt.format(n);
}

/** pct formats a fraction (0.25) as a percentage (25%). */
export function pct(x) {
  if (x === null || x === undefined || x === '') return DASH;
  const v = typeof x === 'string' ? Number.parseFloat(x) : x;
  return Number.isNaN(v) ? DASH : percentFmt.format(v);
}

/** signed formats a difference with its sign: +3, -2, 0. */
export function signed(n, fmt = num) {
  if (n > 0) return `+${fmt(n)}`;
  if (n < 0) return `-${fmt(-n)}`;
  return fmt(0);
}

/** day formats a YYYY-MM-DD date (or the day of a datetime), in UTC. */
export function day(s) {
  if (!s) return DASH;
  const d = new Date(s.length === 10 ? `${s}T00:00:00Z` : s);
  return Number.isNaN(d.getTime()) ? s : dayFmt.format(d);
}

/** dateTime formats an ISO datetime in the browser's time zone. */
export function dateTime(s) {
  if (!s) return DASH;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? s : timeFmt.format(d);
}

/** periodDate turns a series period (YYYY/MM) into the month's first day. */
function periodDate(p) {
  const [y, m] = String(p).split('/');
  return new Date(Date.UTC(Number(y), Number(m) - 1, 1));
}

/** period formats a series period (YYYY/MM) as "Nov 2026". */
export function period(p) {
  const d = periodDate(p);
  return Number.isNaN(d.getTime()) ? String(p) : monthFmt.format(d);
}

/** longPeriod formats a series period as "November 2026". */
export function longPeriod(p) {
  const d = periodDate(p);
  return Number.isNaN(d.getTime()) ? String(p) : longMonthFmt.format(d);
}

/** duration formats seconds for a batch job: 850 ms, 12.3 s, 4 min 5 s, 2 h 3 min. */
export function duration(secs) {
  if (secs === null || secs === undefined) return DASH;
  if (secs < 1) return `${Math.round(secs * 1000)} ms`;
  if (secs < 60) return `${numberFmt.format(Math.round(secs * 10) / 10)} s`;
  const s = Math.round(secs);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

const relFmt = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** relative says how far an ISO datetime is from now: "in 3 hours", "5 minutes ago". */
export function relative(s, now = Date.now()) {
  const t = new Date(s).getTime();
  if (Number.isNaN(t)) return '';
  const secs = (t - now) / 1000;
  const abs = Math.abs(secs);
  if (abs < 60) return relFmt.format(Math.round(secs), 'second');
  if (abs < 3600) return relFmt.format(Math.round(secs / 60), 'minute');
  if (abs < 86400) return relFmt.format(Math.round(secs / 3600), 'hour');
  return relFmt.format(Math.round(secs / 86400), 'day');
}

let regionNames = null;
try {
  regionNames = new Intl.DisplayNames(undefined, { type: 'region' });
} catch {
  regionNames = null;
}

/** country names an ISO 3166 code ("FR": France). */
export function country(code) {
  if (!code) return 'Not available';
  try {
    return (regionNames && regionNames.of(code.toUpperCase())) || code;
  } catch {
    return code;
  }
}

// The LMS's profile codes (common/djangoapps/student/models.py), as the
// original dashboard labelled them.
const GENDERS = { m: 'Male', f: 'Female', o: 'Other / prefer not to say' };
const EDUCATION = {
  p: 'Doctorate',
  m: "Master's or professional degree",
  b: "Bachelor's degree",
  a: 'Associate degree',
  hs: 'Secondary / high school',
  jhs: 'Junior secondary / junior high / middle school',
  el: 'Elementary / primary school',
  none: 'No formal education',
  other: 'Other education',
};

/** gender names a profile's gender code. */
export function gender(code) {
  return (code && GENDERS[code]) || (code ? code : 'Not available');
}

/** education names a profile's level-of-education code. */
export function education(code) {
  return (code && EDUCATION[code]) || (code ? code : 'Not available');
}

/** plural picks the singular or plural noun for n. */
export function plural(n, one, many) {
  return `${num(n)} ${n === 1 ? one : many}`;
}
