"""Email, the domain side: what each event mails to whom (`emails`), the outbox
rows written in the cause's transaction (`outbox`) and their delivery by the
worker (`delivery`). No views here: the outbox page is an editor's screen in
`review.outbox`."""
