/**
 * Example workflows for the example routes. They run in Temporal's workflow sandbox, so they only
 * import @temporalio/workflow. Each returns what it received, so a caller can see its input arrive.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  setHandler,
  sleep,
} from '@temporalio/workflow';

export interface ProcessOrderResult {
  readonly processed: true;
  readonly input: unknown;
}

export async function processOrder(input?: unknown): Promise<ProcessOrderResult> {
  return { processed: true, input };
}

export async function nightlyReport(
  input?: unknown,
): Promise<{ readonly reported: true; readonly input: unknown }> {
  return { reported: true, input };
}

export const approveSignal = defineSignal('approve');

/** A long-running workflow: it waits for the `approve` signal, for up to a day. */
export async function approveRefund(
  input?: unknown,
): Promise<{ readonly approved: boolean; readonly input: unknown }> {
  let approved = false;
  setHandler(approveSignal, () => {
    approved = true;
  });
  await condition(() => approved, '1 day');
  return { approved, input };
}

/** A workflow that can fail: a card marked declined fails it, without retries. */
export async function chargeCard(input?: { readonly card?: string }): Promise<{ readonly charged: true }> {
  if (input?.card === 'declined') {
    throw ApplicationFailure.nonRetryable('Card declined', 'CardDeclined');
  }
  return { charged: true };
}

export interface CartItem {
  readonly sku: string;
  readonly quantity: number;
}

export const addItemSignal = defineSignal<[CartItem]>('addItem');
export const addItemAndCountUpdate = defineUpdate<number, [CartItem]>('addItemAndCount');
export const checkoutUpdate = defineUpdate<
  { readonly items: readonly CartItem[] },
  [{ readonly holdSeconds?: number } | undefined]
>('checkout');
export const itemsQuery = defineQuery<readonly CartItem[]>('items');

const isItem = (item: unknown): item is CartItem =>
  typeof item === 'object' &&
  item !== null &&
  typeof (item as CartItem).sku === 'string' &&
  (item as CartItem).sku !== '' &&
  Number.isInteger((item as CartItem).quantity) &&
  (item as CartItem).quantity > 0;

/**
 * An entity workflow, one per cart: items arrive by the `addItem` signal, or by the `addItemAndCount`
 * update, whose validator rejects an item without a SKU or a positive whole quantity and which answers
 * the number of items. The `checkout` update closes the cart and answers its items, after an optional
 * hold of `holdSeconds`; the `items` query
 * reads them at any time. A cart left alone for a day closes by itself.
 */
export async function cart(input?: { readonly items?: readonly CartItem[] }): Promise<{
  readonly items: readonly CartItem[];
  readonly checkedOut: boolean;
}> {
  const items: CartItem[] = [...(input?.items ?? [])];
  let checkedOut = false;
  setHandler(addItemSignal, (item) => {
    if (isItem(item)) items.push(item);
  });
  setHandler(
    addItemAndCountUpdate,
    (item) => {
      items.push(item);
      return items.length;
    },
    {
      validator: (item) => {
        if (!isItem(item)) throw new Error('An item needs a sku and a positive whole quantity');
        if (checkedOut) throw new Error('The cart is checked out');
      },
    },
  );
  setHandler(
    checkoutUpdate,
    async (options) => {
      checkedOut = true;
      // A payment hold before the answer, as long as the caller asks: an update that takes a while.
      if (options?.holdSeconds) await sleep(options.holdSeconds * 1000);
      return { items };
    },
    {
      validator: (_options) => {
        if (checkedOut) throw new Error('The cart is checked out');
      },
    },
  );
  setHandler(itemsQuery, () => items);
  await condition(() => checkedOut, '1 day');
  await condition(allHandlersFinished);
  return { items, checkedOut };
}
