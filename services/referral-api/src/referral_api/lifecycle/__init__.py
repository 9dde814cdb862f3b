"""The referral lifecycle: Task (status and support offered), contacts and wellbeing scores."""
