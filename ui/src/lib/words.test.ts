import { describe, expect, it } from 'vitest';
import type { AgeBands } from '../backend/bindings';
import type { HelpGiven, SupportNeeds } from '../backend/bindings';
import {
  bandsText,
  ENQUIRY_TOPICS,
  SESSION_STATUS_LABELS,
  FEEDBACK_CHANNELS,
  FEEDBACK_KINDS,
  OUTCOMES,
  accountedText,
  checkedInSentence,
  checkedOutSentence,
  childrenTotal,
  enquiryLoggedSentence,
  feedbackLoggedSentence,
  helpWords,
  needsWelfareOffer,
  needsWords,
  outcomeLabel,
  outcomeText,
  partyText,
  peopleText,
  sessionTimesText,
  topicLabel,
  visitKindLabel,
  walkthroughProgress,
  RECORD_STATE_LABELS,
  entityLabel,
  waitingText,
} from './words';

const bands = (b: Partial<AgeBands> = {}): AgeBands => ({
  age_0_1: 0,
  age_2: 0,
  age_3_4: 0,
  age_5_11: 0,
  age_12_17: 0,
  ...b,
});

describe('checkedInSentence', () => {
  it('uses plurals for more than one', () => {
    expect(checkedInSentence({ adults: 2, children: bands({ age_3_4: 1, age_5_11: 2 }), first_time: false })).toBe(
      'Checked in: 2 adults, 3 children',
    );
  });

  it('uses the singular for exactly one', () => {
    expect(checkedInSentence({ adults: 1, children: bands({ age_0_1: 1 }), first_time: false })).toBe(
      'Checked in: 1 adult, 1 child',
    );
  });

  it('leaves out a count of nobody', () => {
    expect(checkedInSentence({ adults: 1, children: bands(), first_time: false })).toBe('Checked in: 1 adult');
    expect(checkedInSentence({ adults: 0, children: bands({ age_12_17: 2 }), first_time: false })).toBe(
      'Checked in: 2 children',
    );
  });

  it('notes a first visit', () => {
    expect(checkedInSentence({ adults: 1, children: bands({ age_2: 1 }), first_time: true })).toBe(
      'Checked in: 1 adult, 1 child — first visit',
    );
  });
});

describe('other sentences', () => {
  it('checks out with the same counts', () => {
    expect(checkedOutSentence({ adults: 3, children: bands({ age_2: 1 }), first_time: true })).toBe(
      'Checked out: 3 adults, 1 child',
    );
  });

  it('counts children across the bands', () => {
    expect(childrenTotal(bands({ age_0_1: 1, age_2: 2, age_3_4: 3, age_5_11: 4, age_12_17: 5 }))).toBe(15);
  });

  it('says no one for an empty party', () => {
    expect(partyText(0, 0)).toBe('no one');
  });

  it('counts people', () => {
    expect(peopleText(1)).toBe('1 person');
    expect(peopleText(0)).toBe('0 people');
    expect(peopleText(7)).toBe('7 people');
  });

  it('names sessions by their times and kind', () => {
    expect(sessionTimesText({ starts_at: '14:00', ends_at: '16:00' })).toBe('14:00 to 16:00');
    expect(visitKindLabel('closed')).toBe('Closed visits');
  });
});

const needs = (n: Partial<SupportNeeds> = {}): SupportNeeds => ({
  induction_loop: false,
  bsl_interpreter: false,
  step_free_access: false,
  distress: false,
  interpreter_language: '',
  other: '',
  ...n,
});

const help = (h: Partial<HelpGiven> = {}): HelpGiven => ({
  information: false,
  locker: false,
  walkthrough: false,
  signposted_to: '',
  ...h,
});

describe('needs and help as words', () => {
  it('lists nothing for no needs', () => {
    expect(needsWords(needs())).toEqual([]);
    expect(helpWords(help())).toEqual([]);
  });

  it('uses the same words as the export', () => {
    expect(needsWords(needs({ induction_loop: true, interpreter_language: 'Polish', other: 'Tired' }))).toEqual([
      'Induction loop',
      'Interpreter (Polish)',
      'Other: Tired',
    ]);
    expect(needsWords(needs({ bsl_interpreter: true, step_free_access: true, distress: true }))).toEqual([
      'BSL interpreter',
      'Step-free access',
      'Distress',
    ]);
  });

  it('names the help given', () => {
    expect(helpWords(help({ locker: true, walkthrough: true, signposted_to: 'Citizens Advice' }))).toEqual([
      'Locker',
      'First-visit walkthrough',
      'Signposted to Citizens Advice',
    ]);
  });

  it('ignores a language of spaces', () => {
    expect(needsWords(needs({ interpreter_language: '   ' }))).toEqual([]);
  });
});

describe('outcomes', () => {
  it('offers all five, in plain words', () => {
    expect(OUTCOMES.map((o) => o.value)).toEqual([
      'visited',
      'did_not_go_in',
      'declined_entry',
      'failed_security',
      'cancelled_by_prison',
    ]);
    expect(outcomeLabel('failed_security')).toBe('Failed security checks');
  });

  it('asks about welfare support only after declined entry or failed security', () => {
    expect(OUTCOMES.filter((o) => needsWelfareOffer(o.value)).map((o) => o.value)).toEqual([
      'declined_entry',
      'failed_security',
    ]);
    expect(needsWelfareOffer('')).toBe(false);
    expect(needsWelfareOffer(null)).toBe(false);
  });

  it('says whether welfare support was offered', () => {
    expect(outcomeText('failed_security', true)).toBe('Failed security checks — welfare support offered');
    expect(outcomeText('declined_entry', false)).toBe('Declined entry — welfare support not offered');
    expect(outcomeText('visited', null)).toBe('Visited');
  });
});

describe('enquiries and feedback', () => {
  it('has a label for every choice', () => {
    for (const list of [ENQUIRY_TOPICS, FEEDBACK_KINDS, FEEDBACK_CHANNELS]) {
      for (const c of list) expect(c.label).not.toBe(c.value);
    }
    expect(topicLabel('money_for_prisoner')).toBe('Money for a prisoner');
  });

  it('confirms an enquiry in a short sentence', () => {
    expect(enquiryLoggedSentence({ topic: 'transport', resolution: 'signposted', signposted_to: 'Citizens Advice' })).toBe(
      'Enquiry logged: Transport, signposted to Citizens Advice',
    );
    expect(enquiryLoggedSentence({ topic: 'property', resolution: 'answered', signposted_to: null })).toBe(
      'Enquiry logged: Property, answered at the desk',
    );
  });

  it('confirms feedback in a short sentence', () => {
    expect(feedbackLoggedSentence({ kind: 'complaint', channel: 'comment_card' })).toBe(
      'Feedback logged: complaint, comment card',
    );
  });
});

describe('progress', () => {
  it('counts the roll-call with plurals', () => {
    expect(accountedText(1, 2)).toBe('1 of 2 parties accounted for');
    expect(accountedText(0, 1)).toBe('0 of 1 party accounted for');
  });

  it('counts the walkthrough', () => {
    expect(walkthroughProgress(3, 8)).toBe('3 of 8');
  });
});

describe('session states', () => {
  it('are words, not only colours', () => {
    expect(SESSION_STATUS_LABELS).toEqual({
      cancelled: 'Cancelled',
      on_now: 'On now',
      next: 'Next',
      later: 'Later today',
      finished: 'Finished',
    });
  });
});

describe('bandsText', () => {
  it('names each age band with children in it, youngest first', () => {
    expect(bandsText(bands({ age_5_11: 2, age_0_1: 1 }))).toBe('1 under 2, 2 aged 5 to 11');
    expect(bandsText(bands({ age_2: 1, age_3_4: 1, age_12_17: 3 }))).toBe('1 aged 2, 1 aged 3 to 4, 3 aged 12 to 17');
    expect(bandsText(bands())).toBe('');
  });
});

describe('head office words', () => {
  it('counts the changes waiting', () => {
    expect(waitingText(1)).toBe('1 change waiting to go to head office');
    expect(waitingText(37)).toBe('37 changes waiting to go to head office');
  });

  it('names each record state and each kind of record', () => {
    expect(Object.values(RECORD_STATE_LABELS)).toEqual(['Saved on this laptop', 'Waiting to send', 'Sent', 'Confirmed by head office']);
    expect(entityLabel('check_in')).toBe('Check-in');
    expect(entityLabel('centre_event')).toBe('Event');
    expect(entityLabel('something_new')).toBe('something_new');
  });
});
