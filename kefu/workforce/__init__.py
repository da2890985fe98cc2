"""Workforce management: queueing formulas, staffing, forecasting, scheduling and simulation.

The modules here are pure: no database, no clock; time always comes in as an argument.
Time unit throughout is the second unless a name says otherwise.

Documented functions (import them from their modules):

- ``erlang.erlang_b``, ``erlang.erlang_c``, ``erlang.erlang_a``, ``erlang.erlang_a_asa``,
  ``erlang.cobham_waits``: the queueing formulas;
- ``erlang.p_wait_at_most(agents, arrival_rate, aht, t, patience=None)``: the probability that an offered
  call waits at most ``t`` (Erlang C, or Erlang A with a patience);
- ``staffing.halfin_whitt_p_wait(beta)`` and ``staffing.gmr_p_wait(beta, r)``: the probability of waiting
  at all at n = a + beta sqrt(a), without and with abandonment (r = sqrt(patience / aht));
- ``staffing.square_root_beta(load, aht, target, patience=None)``: the square-root staffing beta of a target;
- ``staffing.required_agents``, ``staffing.scheduled_agents``, ``staffing.staff_day``: staffing;
- ``forecast.model_forecast``, ``forecast.choose_model``, ``forecast.choose_blend`` and ``forecast.blended``
  (the mean of the best backtested candidates), ``forecast.same_weekday_mean``, ``forecast.special_kinds``,
  ``forecast.public_holidays``, ``forecast.wape``: forecasting;
- ``multiskill.required_by_demand``, ``multiskill.email_agents``, ``multiskill.cover``: several skills;
- ``roster.assign`` (named agents on a day's shifts within their hours and rest) and ``roster.adherence``
  (an agent's adherence to their shift from their presence changes).
"""
