import { ValidationError } from '#lib/errors.ts';

/*
 * DynamoDB's JSON, as a stream record carries its keys and images, read as plain JSON: the attribute
 * value types of https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValue.html.
 * Written here rather than taken from @aws-sdk/util-dynamodb, which takes in the SDK's types and sets.
 */

/** One attribute value: an object with exactly one of the type keys. */
export type AttributeValue = Readonly<Record<string, unknown>>;

/**
 * Numbers (N, NS) become JS numbers: a number beyond 2^53 or with more than 15 significant digits loses
 * precision, as it would in any JSON a workflow is given. Binaries (B, BS) stay the base64 text the
 * record carries. Sets (SS, NS, BS) become arrays.
 */
const plainValue = (attribute: AttributeValue, path: string): unknown => {
  const [type, value, ...others] = Object.entries(attribute ?? {}).flat();
  if (others.length > 0 || type === undefined) {
    throw new ValidationError(`The attribute ${path} is not a DynamoDB attribute value`);
  }
  switch (type) {
    case 'S':
    case 'B':
    case 'BOOL':
      return value;
    case 'NULL':
      return null;
    case 'N':
      return Number(value);
    case 'SS':
    case 'BS':
      return [...(value as unknown[])];
    case 'NS':
      return (value as string[]).map(Number);
    case 'L':
      return (value as AttributeValue[]).map((item, index) => plainValue(item, `${path}[${index}]`));
    case 'M':
      return unmarshall(value as Record<string, AttributeValue>, path);
    default:
      throw new ValidationError(`The attribute ${path} has the unknown DynamoDB type ${String(type)}`);
  }
};

/** An item (a map of attribute values) as a plain object. Names the attribute, never its value. */
export const unmarshall = (
  item: Readonly<Record<string, AttributeValue>>,
  path = '',
): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(item).map(([name, attribute]) => [
      name,
      plainValue(attribute, path === '' ? name : `${path}.${name}`),
    ]),
  );
