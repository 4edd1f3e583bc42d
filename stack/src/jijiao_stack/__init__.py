"""Development launcher: makes sure the infrastructure answers, starts the embedded store and the
five services (API and worker each) as processes, seeds demo data. Used by ``make up`` and by the
end-to-end tests, so both run the system the same way."""
