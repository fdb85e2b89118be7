// Plain words for the choices on the Settings and Feedback & events screens.
import type { EventKind, ExportList, FeedbackChannel, FeedbackKind, FeedbackStatus, VisitKind } from '../backend/bindings';

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

export const VISIT_KINDS: Record<VisitKind, string> = { open: 'Open visits', closed: 'Closed visits' };

export const FEEDBACK_KINDS: Record<FeedbackKind, string> = {
  compliment: 'Compliment',
  complaint: 'Complaint',
  suggestion: 'Suggestion',
};

export const FEEDBACK_CHANNELS: Record<FeedbackChannel, string> = {
  in_person: 'In person',
  comment_card: 'Comment card',
  family_forum: 'Family forum',
};

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
