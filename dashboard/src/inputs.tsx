// The form's number inputs: typed text, a blank one "not set".

export function PriceInput({
  label,
  value,
  onChange,
  optional = false,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  optional?: boolean;
}) {
  return (
    <label>
      {label}
      <input
        type="number"
        inputMode="decimal"
        min="0"
        step="any"
        required={!optional}
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
    </label>
  );
}

/** An optional number from 0 to `max`: a percentage, or the pence a price ends in. */
export function NumberInput(props: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  max: string;
  step: string;
}) {
  return (
    <label>
      {props.label}
      <input
        type="number"
        inputMode="decimal"
        min="0"
        max={props.max}
        step={props.step}
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
      />
    </label>
  );
}
