import type { CloudFormationResource, CloudFormationTemplate } from '../../infra/package.ts';

/**
 * Reading a packaged CloudFormation template the way CloudFormation would deploy it with its parameters'
 * defaults: conditions evaluated, `Fn::If` branches chosen, `AWS::NoValue` dropped, parameter `Ref`s
 * replaced by their values and resources whose condition is false left out. Covers the intrinsic
 * functions this project's templates use in conditions (Fn::Not, Fn::Equals, Fn::And, Fn::Or, Condition).
 */

type Json = unknown;

const isObject = (value: Json): value is Record<string, Json> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const NO_VALUE = Symbol('AWS::NoValue');

const parameterValue = (template: CloudFormationTemplate, name: string): Json => {
  const parameter = template.Parameters?.[name];
  if (parameter === undefined) throw new Error(`no parameter ${name}`);
  return parameter.Default;
};

/** Whether a named condition holds with the parameters' defaults. */
export const conditionHolds = (template: CloudFormationTemplate, name: string): boolean => {
  const evaluate = (expression: Json): Json => {
    if (!isObject(expression)) return expression;
    const [[fn, args] = []] = Object.entries(expression);
    const list = Array.isArray(args) ? args : [args];
    switch (fn) {
      case 'Ref':
        return parameterValue(template, String(args));
      case 'Condition':
        return conditionHolds(template, String(args));
      case 'Fn::Not':
        return !evaluate(list[0]);
      case 'Fn::Equals':
        return evaluate(list[0]) === evaluate(list[1]);
      case 'Fn::And':
        return list.every((item) => evaluate(item) === true);
      case 'Fn::Or':
        return list.some((item) => evaluate(item) === true);
      default:
        throw new Error(`condition ${name}: ${fn} is not supported here`);
    }
  };
  const expression = template.Conditions?.[name];
  if (expression === undefined) throw new Error(`no condition ${name}`);
  return evaluate(expression) === true;
};

/** A value with its conditions applied, as CloudFormation would see it. */
const resolve = (template: CloudFormationTemplate, value: Json): Json => {
  if (Array.isArray(value)) {
    return value.map((item) => resolve(template, item)).filter((item) => item !== NO_VALUE);
  }
  if (!isObject(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === 'Fn::If') {
    const [condition, whenTrue, whenFalse] = value['Fn::If'] as [string, Json, Json];
    return resolve(template, conditionHolds(template, condition) ? whenTrue : whenFalse);
  }
  if (keys.length === 1 && keys[0] === 'Ref') {
    if (value.Ref === 'AWS::NoValue') return NO_VALUE;
    if (typeof value.Ref === 'string' && template.Parameters?.[value.Ref] !== undefined) {
      return parameterValue(template, value.Ref);
    }
    return value;
  }
  return Object.fromEntries(
    Object.entries(value)
      .map(([key, item]) => [key, resolve(template, item)] as const)
      .filter(([, item]) => item !== NO_VALUE),
  );
};

/** The template as deployed with its parameters' defaults. */
export const effective = (template: CloudFormationTemplate): CloudFormationTemplate => ({
  ...template,
  Resources: Object.fromEntries(
    Object.entries(template.Resources)
      .filter(
        ([, resource]) => resource.Condition === undefined || conditionHolds(template, resource.Condition),
      )
      .map(([id, resource]) => [id, resolve(template, resource) as CloudFormationResource]),
  ),
});

/** The resources of one type, by logical ID. */
export const resourcesOfType = (
  template: CloudFormationTemplate,
  type: string,
): [string, CloudFormationResource][] =>
  Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);

/** A resource's properties; fails the test when the resource is missing. */
export const propertiesOf = (template: CloudFormationTemplate, id: string): Record<string, Json> => {
  const resource = template.Resources[id];
  if (resource === undefined) throw new Error(`no resource ${id}`);
  return resource.Properties ?? {};
};

export interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource?: Json;
  readonly Principal?: Json;
  readonly Condition?: Record<string, Record<string, Json>>;
}

/** Every policy statement of a resource that carries one (roles, managed policies, queue policies). */
export const statementsOf = (resource: CloudFormationResource): Statement[] => {
  const properties = resource.Properties ?? {};
  const documents: Json[] = [];
  if (resource.Type === 'AWS::IAM::Role') {
    for (const policy of (properties.Policies as { PolicyDocument: Json }[] | undefined) ?? []) {
      documents.push(policy.PolicyDocument);
    }
  } else if (properties.PolicyDocument !== undefined) {
    documents.push(properties.PolicyDocument);
  }
  return documents.flatMap((document) => (document as { Statement: Statement[] }).Statement);
};

export const actionsOf = (statement: Statement): string[] =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

/** `{ "Fn::GetAtt": [id, attribute] }` */
export const getAtt = (id: string, attribute: string) => ({ 'Fn::GetAtt': [id, attribute] });
