import type { ReactNode } from "react";

/**
 * One of the decision's figures, in a `<dl>`: what it is, and its value as people read it, with the number itself
 * in `data-value` (and any other `data-` attributes) for the tests and for scripts reading the page.
 */
export function Figure({
  term,
  testId,
  value,
  data,
  children,
}: {
  term: string;
  testId: string;
  value?: number;
  data?: { [attribute: `data-${string}`]: string | number };
  children: ReactNode;
}) {
  return (
    <div>
      <dt>{term}</dt>
      <dd data-testid={testId} data-value={value} {...data}>
        {children}
      </dd>
    </div>
  );
}
