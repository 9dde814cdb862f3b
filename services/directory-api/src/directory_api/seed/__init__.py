"""Reference data every deployment starts with, and the synthetic London sample."""
