"""Invitations to complete a screening questionnaire (SDC Task complete-questionnaire)."""
