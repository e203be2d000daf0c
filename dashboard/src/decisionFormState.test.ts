import { describe, expect, it } from "vitest";
import {
  type DecisionFormAction,
  type DecisionFormState,
  decisionFormReducer,
  initialDecisionForm,
} from "./decisionFormState";
import { curveBin, decisionOf } from "./decisionFixture";

function run(state: DecisionFormState, ...actions: DecisionFormAction[]): DecisionFormState {
  return actions.reduce(decisionFormReducer, state);
}

/** A product open with every input typed in, a cost file's cost known. */
function filledIn(): DecisionFormState {
  return {
    form: {
      low: "0.5",
      high: "2",
      bins: "40",
      objective: "profit",
      unitCost: "0.45",
      floor: "0.8",
      ceiling: "1.6",
      maxChangePercent: "20",
      priceEnding: "0.99",
      minMarginPercent: "30",
    },
    fileCost: 0.45,
    request: { stockcode: "85127A", query: { numPriceBins: 100, objective: "revenue" } },
  };
}

describe("initialDecisionForm", () => {
  it("asks for a linked product at once with the form's defaults, and waits for a pick otherwise", () => {
    const opened = initialDecisionForm("85127A");
    expect(opened.request).toEqual({ stockcode: "85127A", query: { numPriceBins: 100, objective: "revenue" } });
    expect(initialDecisionForm(null).request).toBeNull();
  });
});

describe("decisionFormReducer", () => {
  it("changes only the input edited, and asks nothing", () => {
    const before = filledIn();
    const after = run(before, { type: "edit", field: "floor", value: "0.9" });
    expect(after.form).toEqual({ ...before.form, floor: "0.9" });
    expect(after.request).toBe(before.request);
  });

  it("asks for the inputs as they stand on Update, with a new request each time", () => {
    const before = run(filledIn(), { type: "edit", field: "ceiling", value: "1.5" });
    const once = run(before, { type: "submit" });
    expect(once.request).toEqual({
      stockcode: "85127A",
      query: {
        unitpriceMin: 0.5,
        unitpriceMax: 2,
        numPriceBins: 40,
        objective: "profit",
        // the cost file's cost, which the input shows, is not sent
        floor: 0.8,
        ceiling: 1.5,
        maxChange: 0.2,
        priceEnding: 0.99,
        minMargin: 0.3,
      },
    });
    const twice = run(once, { type: "submit" });
    expect(twice.request).toEqual(once.request);
    expect(twice.request).not.toBe(once.request); // the same values ask again
  });

  it("sends a unit cost typed over the cost file's", () => {
    const state = run(filledIn(), { type: "edit", field: "unitCost", value: "0.5" }, { type: "submit" });
    expect(state.request?.query.unitCost).toBe(0.5);
  });

  it("asks nothing on Update, History range or the objective switch before a product is open", () => {
    const closed = { ...filledIn(), request: null };
    expect(run(closed, { type: "submit" })).toBe(closed);
    expect(run(closed, { type: "historyRange" })).toBe(closed);
    const switched = run(closed, { type: "objective", objective: "revenue" });
    expect(switched.request).toBeNull();
    expect(switched.form.objective).toBe("revenue");
  });

  it("asks over the product's history for History range, leaving the range inputs for the answer to fill", () => {
    const state = run(filledIn(), { type: "historyRange" });
    expect(state.request?.query).not.toHaveProperty("unitpriceMin");
    expect(state.request?.query).not.toHaveProperty("unitpriceMax");
    expect(state.request?.query).toMatchObject({ numPriceBins: 40, floor: 0.8, minMargin: 0.3 });
    expect(state.form).toEqual(filledIn().form);
  });

  it("asks at once when the objective switches, with everything else as typed", () => {
    const before = filledIn();
    const state = run(before, { type: "objective", objective: "revenue" });
    expect(state.form).toEqual({ ...before.form, objective: "revenue" });
    expect(state.request?.query).toEqual({ ...run(before, { type: "submit" }).request?.query, objective: "revenue" });
  });

  it("clears the product's own range, cost, floor and ceiling on a pick, and keeps the policy", () => {
    const state = run(filledIn(), { type: "pick", stockcode: "22423" });
    expect(state.form).toEqual({
      ...filledIn().form,
      low: "",
      high: "",
      unitCost: "",
      floor: "",
      ceiling: "",
    });
    expect(state.fileCost).toBeNull();
    expect(state.request).toEqual({
      stockcode: "22423",
      query: { numPriceBins: 40, objective: "profit", maxChange: 0.2, priceEnding: 0.99, minMargin: 0.3 },
    });
  });

  it("shows the range an answer swept for an end that was not asked, and keeps an end that was", () => {
    const blank = run(filledIn(), { type: "pick", stockcode: "85127A" });
    // the fixture's curve sweeps 0.66 to 1.60
    const swept = run(blank, { type: "answered", decision: decisionOf(), asked: {} });
    expect([swept.form.low, swept.form.high]).toEqual(["0.66", "1.6"]);
    const lowAsked = run(blank, { type: "answered", decision: decisionOf(), asked: { unitpriceMin: 0.5 } });
    expect([lowAsked.form.low, lowAsked.form.high]).toEqual(["", "1.6"]);
  });

  it("fills nothing in from an answer with an empty curve", () => {
    const blank = run(filledIn(), { type: "pick", stockcode: "85127A" });
    const state = run(blank, { type: "answered", decision: decisionOf({ curve: [] }), asked: {} });
    expect(state.form).toEqual(blank.form);
  });

  it("shows the cost file's unit cost in a blank input, and does not send it back", () => {
    const blank = run(filledIn(), { type: "pick", stockcode: "85127A" });
    const fromFile = decisionOf({ unit_cost: 0.42, unit_cost_source: "cost_file" });
    const state = run(blank, { type: "answered", decision: fromFile, asked: {} });
    expect(state.form.unitCost).toBe("0.42");
    expect(state.fileCost).toBe(0.42);
    expect(run(state, { type: "submit" }).request?.query).not.toHaveProperty("unitCost");
  });

  it("keeps a unit cost typed before the cost file's arrived, and sends it", () => {
    const picked = run(filledIn(), { type: "pick", stockcode: "85127A" });
    const typed = run(picked, { type: "edit", field: "unitCost", value: "0.6" });
    const fromFile = decisionOf({ unit_cost: 0.42, unit_cost_source: "cost_file" });
    const state = run(typed, { type: "answered", decision: fromFile, asked: {} });
    expect(state.form.unitCost).toBe("0.6");
    expect(run(state, { type: "submit" }).request?.query.unitCost).toBe(0.6);
  });

  it("forgets the cost file's cost when an answer reports none, and keeps it for a cost typed here", () => {
    const known = filledIn(); // fileCost 0.45
    const typedHere = run(known, { type: "answered", decision: decisionOf({ unit_cost_source: "query" }), asked: {} });
    expect(typedHere.fileCost).toBe(0.45);
    const none = decisionOf({ unit_cost: null, unit_cost_source: null });
    const state = run(known, { type: "answered", decision: none, asked: {} });
    expect(state.fileCost).toBeNull();
    // the input still shows 0.45, now a cost of the user's own: sent
    expect(run(state, { type: "submit" }).request?.query.unitCost).toBe(0.45);
  });

  it("leaves the state as it was when an answer changes nothing", () => {
    const state = filledIn();
    const asked = { unitpriceMin: 0.5, unitpriceMax: 2 };
    const decision = decisionOf({ unit_cost_source: "query", curve: [curveBin(0.5, 900), curveBin(2, 400)] });
    expect(run(state, { type: "answered", decision, asked })).toBe(state);
  });
});
