"""Reserve, cancel and set the status of units; the 6-day rule (domain: no request, no templates).

Sections: BER (reserve_units, cancel_unit_by_ber, set_unit_status) and AE (cancel_unit_by_ae,
the 6-day rule). Every function takes the actor, enforces every rule, owns its transaction,
records the history and queues the promised e-mails.
"""

from __future__ import annotations

# ---------------------------------------------------------------------------------------------
# BER: reserve units for a school, cancel an exam, set a unit's status (BER 4-5)
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# AE: the school cancels its own units; the 6-day rule (AE 2)
# ---------------------------------------------------------------------------------------------
