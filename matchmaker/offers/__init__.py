"""Offers on demands: applications to products, bids from the pool, acceptance, deals and disbursements."""
