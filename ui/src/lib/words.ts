// Short sentences the desk reads at a glance: counts of people with the right singular or plural.
import type { AgeBands, Slot } from '../backend/bindings';

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

export const SLOTS: readonly Slot[] = ['morning', 'afternoon', 'evening'];

const SLOT_LABELS: Record<Slot, string> = {
  morning: 'Morning',
  afternoon: 'Afternoon',
  evening: 'Evening',
};

export const slotLabel = (slot: Slot): string => SLOT_LABELS[slot];

/** The age bands in order, with the field name the backend uses and the label shown. */
export const AGE_BANDS: readonly { key: keyof AgeBands; label: string }[] = [
  { key: 'age_0_1', label: 'Under 2' },
  { key: 'age_2', label: 'Aged 2' },
  { key: 'age_3_4', label: '3 to 4' },
  { key: 'age_5_11', label: '5 to 11' },
  { key: 'age_12_17', label: '12 to 17' },
];
