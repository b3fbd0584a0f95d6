"""Holds that pause statements, dunning and agency referral: LOP, probate, bankruptcy, dispute."""
