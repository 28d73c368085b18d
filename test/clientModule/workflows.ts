/**
 * The workflows of the client-module test. They run in the workflow sandbox: only
 * @temporalio/workflow. `echo` answers its input and the origin header its start carried; `inbox`
 * keeps the signals and updates it gets, with the header each carried.
 */
import { condition, defineSignal, defineUpdate, setHandler } from '@temporalio/workflow';
import { originOf } from './origin.ts';

export async function echo(input?: unknown): Promise<{ readonly input: unknown; readonly origin: unknown }> {
  return { input, origin: originOf('execute') };
}

export const noteSignal = defineSignal<[unknown]>('note');
export const closeUpdate = defineUpdate<{ readonly notes: unknown[]; readonly origins: unknown[] }>('close');

export async function inbox(): Promise<{ readonly notes: unknown[]; readonly origins: unknown[] }> {
  const notes: unknown[] = [];
  let closed = false;
  setHandler(noteSignal, (note) => {
    notes.push(note);
  });
  setHandler(closeUpdate, () => {
    closed = true;
    return { notes, origins: [originOf('execute'), originOf('signal'), originOf('update')] };
  });
  await condition(() => closed);
  return { notes, origins: [originOf('execute'), originOf('signal'), originOf('update')] };
}
