"""Quality-assurance oversight: moderation, escalations, actions and the activity report."""
