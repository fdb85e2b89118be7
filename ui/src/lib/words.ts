// Short sentences the desk reads at a glance: counts of people with the right singular or plural.
import type {
  AgeBands,
  EnquiryResolution,
  EnquiryTopic,
  FeedbackChannel,
  FeedbackKind,
  HelpGiven,
  RecordState,
  SupportNeeds,
  VisitKind,
  VisitOutcome,
} from '../backend/bindings';
import type { SessionStatus } from './sessions';

/** "1 adult", "2 adults", "0 children". */
export function countOf(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

export const adultsText = (n: number): string => countOf(n, 'adult', 'adults');
export const childrenText = (n: number): string => countOf(n, 'child', 'children');
export const peopleText = (n: number): string => countOf(n, 'person', 'people');

/** All the children in a party, across the age bands. */
export function childrenTotal(c: AgeBands): number {
  return c.age_0_1 + c.age_2 + c.age_3_4 + c.age_5_11 + c.age_12_17;
}

/** "2 adults, 3 children"; a count of nobody is left out ("1 adult"), unless the party is empty. */
export function partyText(adults: number, children: number): string {
  const parts: string[] = [];
  if (adults !== 0) parts.push(adultsText(adults));
  if (children !== 0) parts.push(childrenText(children));
  return parts.length > 0 ? parts.join(', ') : 'no one';
}

export interface PartyLike {
  adults: number;
  children: AgeBands;
  first_time: boolean;
}

/** The quiet confirmation after a check-in: "Checked in: 2 adults, 3 children — first visit". */
export function checkedInSentence(party: PartyLike): string {
  const text = `Checked in: ${partyText(party.adults, childrenTotal(party.children))}`;
  return party.first_time ? `${text} — first visit` : text;
}

/** The quiet confirmation after a check-out: "Checked out: 1 adult, 1 child". */
export function checkedOutSentence(party: PartyLike): string {
  return `Checked out: ${partyText(party.adults, childrenTotal(party.children))}`;
}

/** The age bands in order, with the field name the backend uses and the label shown. */
export const AGE_BANDS: readonly { key: keyof AgeBands; label: string }[] = [
  { key: 'age_0_1', label: 'Under 2' },
  { key: 'age_2', label: 'Aged 2' },
  { key: 'age_3_4', label: '3 to 4' },
  { key: 'age_5_11', label: '5 to 11' },
  { key: 'age_12_17', label: '12 to 17' },
];

/** A choice as the UI offers it: the value the backend knows and the words shown. */
export interface Choice<T extends string> {
  value: T;
  label: string;
}

const label = <T extends string>(choices: readonly Choice<T>[], value: T): string =>
  choices.find((c) => c.value === value)?.label ?? value;

export const VISIT_KINDS: readonly Choice<VisitKind>[] = [
  { value: 'open', label: 'Open visits' },
  { value: 'closed', label: 'Closed visits' },
];
export const visitKindLabel = (k: VisitKind): string => label(VISIT_KINDS, k);

/** "14:00 to 16:00". */
export const sessionTimesText = (s: { starts_at: string; ends_at: string }): string => `${s.starts_at} to ${s.ends_at}`;

/** The five ways a visit ends, in the order the desk meets them. */
export const OUTCOMES: readonly Choice<VisitOutcome>[] = [
  { value: 'visited', label: 'Visited' },
  { value: 'did_not_go_in', label: 'Did not go in' },
  { value: 'declined_entry', label: 'Declined entry' },
  { value: 'failed_security', label: 'Failed security checks' },
  { value: 'cancelled_by_prison', label: 'Cancelled by the prison' },
];
export const outcomeLabel = (o: VisitOutcome): string => label(OUTCOMES, o);

/** Outcomes after which the desk must offer welfare support and say whether it did (as the backend requires). */
export const needsWelfareOffer = (o: VisitOutcome | '' | null): boolean =>
  o === 'declined_entry' || o === 'failed_security';

/** The answers to "Was welfare support offered?". */
export const WELFARE_CHOICES: readonly Choice<'yes' | 'no'>[] = [
  { value: 'yes', label: 'Yes, offered' },
  { value: 'no', label: 'No' },
];

/** "Failed security checks — welfare support offered". */
export function outcomeText(outcome: VisitOutcome, welfareOffered: boolean | null): string {
  const text = outcomeLabel(outcome);
  if (!needsWelfareOffer(outcome) || welfareOffered === null) return text;
  return `${text} — ${welfareOffered ? 'welfare support offered' : 'welfare support not offered'}`;
}

/** The tick-box needs, in the order the form shows them (the language and "other" are typed). */
export const NEED_FLAGS: readonly { key: 'induction_loop' | 'bsl_interpreter' | 'step_free_access' | 'distress'; label: string }[] = [
  { key: 'induction_loop', label: 'Induction loop' },
  { key: 'bsl_interpreter', label: 'BSL interpreter' },
  { key: 'step_free_access', label: 'Step-free access' },
  { key: 'distress', label: 'Distress' },
];

/** The needs noticed, as words: ["Interpreter (Polish)", "Step-free access"] (the same words as the export). */
export function needsWords(n: SupportNeeds): string[] {
  const out = NEED_FLAGS.filter((f) => n[f.key]).map((f) => f.label);
  if (n.interpreter_language.trim() !== '') out.push(`Interpreter (${n.interpreter_language.trim()})`);
  if (n.other.trim() !== '') out.push(`Other: ${n.other.trim()}`);
  return out;
}

export const HELP_FLAGS: readonly { key: 'information' | 'locker' | 'walkthrough'; label: string }[] = [
  { key: 'information', label: 'Information' },
  { key: 'locker', label: 'Locker' },
  { key: 'walkthrough', label: 'First-visit walkthrough' },
];

/** The help given, as words: ["Locker", "Signposted to Citizens Advice"]. */
export function helpWords(h: HelpGiven): string[] {
  const out = HELP_FLAGS.filter((f) => h[f.key]).map((f) => f.label);
  if (h.signposted_to.trim() !== '') out.push(`Signposted to ${h.signposted_to.trim()}`);
  return out;
}

export const ENQUIRY_TOPICS: readonly Choice<EnquiryTopic>[] = [
  { value: 'visit_booking', label: 'Visit booking' },
  { value: 'property', label: 'Property' },
  { value: 'money_for_prisoner', label: 'Money for a prisoner' },
  { value: 'release', label: 'Release' },
  { value: 'health_and_welfare', label: 'Health and welfare' },
  { value: 'transport', label: 'Transport' },
  { value: 'other', label: 'Other' },
];
export const topicLabel = (t: EnquiryTopic): string => label(ENQUIRY_TOPICS, t);

export const ENQUIRY_RESOLUTIONS: readonly Choice<EnquiryResolution>[] = [
  { value: 'answered', label: 'Answered at the desk' },
  { value: 'signposted', label: 'Signposted elsewhere' },
  { value: 'passed_to_coordinator', label: 'Passed to the coordinator' },
];
export const resolutionLabel = (r: EnquiryResolution): string => label(ENQUIRY_RESOLUTIONS, r);

/** "Enquiry logged: Transport, signposted to Citizens Advice". */
export function enquiryLoggedSentence(e: { topic: EnquiryTopic; resolution: EnquiryResolution; signposted_to: string | null }): string {
  const how =
    e.resolution === 'signposted' && e.signposted_to
      ? `signposted to ${e.signposted_to}`
      : resolutionLabel(e.resolution).toLowerCase();
  return `Enquiry logged: ${topicLabel(e.topic)}, ${how}`;
}

export const FEEDBACK_KINDS: readonly Choice<FeedbackKind>[] = [
  { value: 'compliment', label: 'Compliment' },
  { value: 'complaint', label: 'Complaint' },
  { value: 'suggestion', label: 'Suggestion' },
];
export const feedbackKindLabel = (k: FeedbackKind): string => label(FEEDBACK_KINDS, k);

export const FEEDBACK_CHANNELS: readonly Choice<FeedbackChannel>[] = [
  { value: 'in_person', label: 'In person' },
  { value: 'comment_card', label: 'Comment card' },
  { value: 'family_forum', label: 'Family forum' },
];
export const channelLabel = (c: FeedbackChannel): string => label(FEEDBACK_CHANNELS, c);

/** "Feedback logged: complaint, in person". */
export function feedbackLoggedSentence(f: { kind: FeedbackKind; channel: FeedbackChannel }): string {
  return `Feedback logged: ${feedbackKindLabel(f.kind).toLowerCase()}, ${channelLabel(f.channel).toLowerCase()}`;
}

/** "1 of 2 parties accounted for". */
export function accountedText(accounted: number, parties: number): string {
  return `${accounted} of ${countOf(parties, 'party', 'parties')} accounted for`;
}

/** "3 of 8": how far through the first-visit walkthrough a party is. */
export const walkthroughProgress = (ticked: number, items: number): string => `${ticked} of ${items}`;

/** How a session's state reads on the board and in the check-in form's list. */
export const SESSION_STATUS_LABELS: Record<SessionStatus, string> = {
  cancelled: 'Cancelled',
  on_now: 'On now',
  next: 'Next',
  later: 'Later today',
  finished: 'Finished',
};

/** The children of a party by age, in words: "1 under 2, 2 aged 5 to 11" (bands with none left out). */
export function bandsText(c: AgeBands): string {
  const words: Record<keyof AgeBands, string> = {
    age_0_1: 'under 2',
    age_2: 'aged 2',
    age_3_4: 'aged 3 to 4',
    age_5_11: 'aged 5 to 11',
    age_12_17: 'aged 12 to 17',
  };
  return AGE_BANDS.filter((b) => c[b.key] > 0)
    .map((b) => `${c[b.key]} ${words[b.key]}`)
    .join(', ');
}

/** Where a record's change to head office has got to, as the chip on its row says it. */
export const RECORD_STATE_LABELS: Record<RecordState, string> = {
  saved: 'Saved on this laptop',
  queued: 'Waiting to send',
  sent: 'Sent',
  confirmed: 'Confirmed by head office',
};

/** The words of the head-office status strip and the Head office settings. */
export const SYNC_WORDS = {
  safe: 'Safe to shut the laptop',
  notConnected: 'Not connected to head office yet',
  blocked: 'Head office has stopped this laptop sending',
  connectInSettings: 'Connect it in Settings',
  lastConfirmed: 'Last confirmed by head office:',
  neverConfirmed: 'not yet',
  sendNow: 'Send now',
  sending: 'Sending…',
  connect: 'Connect',
  connecting: 'Connecting…',
} as const;

/** Restoring a replacement laptop from head office (Settings → Head office). */
export const RESTORE_WORDS = {
  heading: "Restore this centre's records from head office",
  intro:
    "For a replacement laptop only. This brings back the centre's sessions, check-ins, families, feedback and events from head office onto this laptop, so the desk can carry on where the old laptop left off.",
  accounts:
    'Staff accounts do not come back: everyone who used the old laptop will need a new account on this one, added below under Accounts.',
  newLaptopOnly:
    'It is only possible on a new laptop that has no records of its own yet. It can be done once, and it may take a few minutes; the desk can carry on meanwhile.',
  start: "Restore this centre's records from head office",
  confirm: "Are you sure? This laptop will fetch the centre's records from head office now.",
  yes: 'Yes, restore',
  cancel: 'Cancel',
  starting: 'Starting…',
  progressLabel: 'Restore progress',
  waitingToStart: 'Restoring… waiting for head office',
} as const;

/** "1,200" in the UK style. */
export const countText = (n: number): string => n.toLocaleString('en-GB');

/** "Restoring… 1,200 of 4,800 changes (25%)". */
export function restoringText(done: number, total: number, percent: number): string {
  if (total <= 0) return RESTORE_WORDS.waitingToStart;
  return `Restoring… ${countText(done)} of ${countText(total)} ${total === 1 ? 'change' : 'changes'} (${percent}%)`;
}

/** "Restored: 4,790 records; 10 skipped". */
export function restoredText(applied: number, skipped: number): string {
  return `Restored: ${countText(applied)} ${applied === 1 ? 'record' : 'records'}; ${countText(skipped)} skipped`;
}

/** "1 change waiting to go to head office", "37 changes waiting to go to head office". */
export const waitingText = (n: number): string => `${countOf(n, 'change', 'changes')} waiting to go to head office`;

/** The kinds of record a change can be about, as the manager's quarantine list names them. */
export const ENTITY_LABELS: Record<string, string> = {
  centre: 'Centre details',
  account: 'Account',
  settings: 'Centre settings',
  visits_session: 'Visits session',
  check_in: 'Check-in',
  session_template: 'Weekly session',
  enquiry: 'Enquiry',
  feedback: 'Feedback',
  centre_event: 'Event',
  roll_call: 'Roll-call',
  family: 'Family',
};
export const entityLabel = (entity: string): string => ENTITY_LABELS[entity] ?? entity;
