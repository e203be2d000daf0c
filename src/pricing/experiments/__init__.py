"""Price experiments: a closed-loop market simulation against the generator's truth (`market`, `simulate`),
pricing policies under guardrails (`policies`), the weekly posterior update of each product's price slope
(`learning`), the prior it starts from (`prior`) and the difference in differences of an experiment's report
(`did`). docs/EXPERIMENTS.md describes them and what the simulation shows."""
