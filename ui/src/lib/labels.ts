// Plain words for the choices on the Settings, Families and Feedback & events screens (the desk's
// own choices are in words.ts).
import type {
  AgeBand,
  ConsentMethod,
  ConsentStatus,
  EventKind,
  ExportList,
  FeedbackStatus,
  Relationship,
  RemovalReason,
} from '../backend/bindings';

export const WEEKDAYS: readonly { value: number; label: string }[] = [
  { value: 1, label: 'Monday' },
  { value: 2, label: 'Tuesday' },
  { value: 3, label: 'Wednesday' },
  { value: 4, label: 'Thursday' },
  { value: 5, label: 'Friday' },
  { value: 6, label: 'Saturday' },
  { value: 7, label: 'Sunday' },
];

/** Monday … Sunday for an ISO weekday (1 is Monday). */
export function weekdayLabel(day: number): string {
  return WEEKDAYS.find((d) => d.value === day)?.label ?? 'Unknown day';
}




export const FEEDBACK_STATUSES: Record<FeedbackStatus, string> = {
  open: 'Waiting for a response',
  responded: 'Responded',
  closed: 'Closed',
};

export const EVENT_KINDS: Record<EventKind, string> = { family_day: 'Family day', family_forum: 'Family forum' };

export const EXPORT_LISTS: Record<ExportList, string> = {
  fire_list: 'Fire list (who is on site now)',
  check_ins: 'Check-ins',
  enquiries: 'Enquiries',
  feedback: 'Feedback',
  events: 'Events',
  families: 'Families on record (names, visits, consent)',
};

/** A record's options for a SelectField, in the record's order. */
export function optionsOf<K extends string>(labels: Record<K, string>): { value: K; label: string }[] {
  return (Object.keys(labels) as K[]).map((value) => ({ value, label: labels[value] }));
}

/** How long feedback has waited, in words: "today", "1 day", "12 days". */
export function waited(days: number): string {
  if (days <= 0) return 'today';
  return days === 1 ? '1 day' : `${days} days`;
}

export const RELATIONSHIPS: Record<Relationship, string> = {
  partner: 'Partner',
  parent: 'Parent',
  child: 'Child',
  stepchild: 'Stepchild',
  grandparent: 'Grandparent',
  grandchild: 'Grandchild',
  sibling: 'Brother or sister',
  other_relative: 'Other relative',
  friend: 'Friend',
  carer: 'Carer or social worker',
};

export const AGE_BANDS: Record<AgeBand, string> = {
  adult: 'Adult',
  age_0_1: 'Under 2',
  age_2: 'Aged 2',
  age_3_4: 'Aged 3 to 4',
  age_5_11: 'Aged 5 to 11',
  age_12_17: 'Aged 12 to 17',
};

export const CONSENT_METHODS: Record<ConsentMethod, string> = { verbal: 'Spoken (verbal)', written: 'Signed form (written)' };

export const CONSENT_STATUSES: Record<ConsentStatus, string> = {
  current: 'Consent current',
  due_for_renewal: 'Consent due for renewal',
  expired: 'Consent expired',
};

export const REMOVAL_REASONS: Record<RemovalReason, string> = {
  consent_withdrawn: 'The family withdrew consent',
  consent_expired: 'Consent expired and was not renewed',
  erasure_requested: 'The family asked for their details to be erased',
};
