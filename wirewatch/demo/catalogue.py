"""The demo's news: made-up wire stories and independent reports, written for Wirewatch's demo.

Every text here is fiction written for the demo (places are real, events are not). Each wire
story has an agency, a dateline, the agency's headline and the outlets' rewritten ones; the
weather words (drought, flood, heatwave, wildfire) appear only in the stories meant to match
the demo's weather topic.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WireStory:
    key: str
    agency: str  # as written in datelines: Reuters, AP, AFP
    dateline: str  # "ROTTERDAM"
    headlines: tuple[str, ...]  # the agency's own first, then the rewrites outlets use
    paragraphs: tuple[str, ...]  # the first without its dateline


@dataclass(frozen=True)
class Report:
    key: str
    outlet: str  # slug of the outlet that reports it
    headline: str
    byline: str
    paragraphs: tuple[str, ...]


WIRE_STORIES: tuple[WireStory, ...] = (
    WireStory(
        key="port-strike",
        agency="Reuters",
        dateline="ROTTERDAM",
        headlines=(
            "Rotterdam dockworkers end strike after two-year wage deal",
            "Port strike over as dockers accept pay offer",
            "Europe's busiest port reopens its container terminals",
        ),
        paragraphs=(
            "Dockworkers at Rotterdam voted on Tuesday to end a nine-day strike that had left "
            "more than forty container ships waiting at anchor, after unions accepted a two-year "
            "wage agreement with terminal operators.",
            "The deal raises pay by six percent this year and four percent next year, and adds a "
            "guarantee that no permanent jobs will be cut when two terminals switch to remotely "
            "operated cranes in the spring.",
            "Shipping lines had diverted dozens of vessels to Antwerp and Hamburg during the "
            "stoppage, and freight forwarders said it could take two weeks to clear the backlog "
            "of boxes stacked on the quays.",
            "The port authority said the first ships would berth overnight and asked hauliers to "
            "book collection slots in advance, warning that trucks arriving without one would be "
            "turned away at the gates.",
            "Union leaders said members had approved the agreement by a wide margin, although a "
            "minority had argued for holding out for a shorter working week for crane operators.",
        ),
    ),
    WireStory(
        key="east-africa-drought",
        agency="Reuters",
        dateline="NAIROBI",
        headlines=(
            "East Africa drought deepens as short rains fail for third season",
            "Maize prices soar as drought grips Kenya and Somalia",
            "Third failed rainy season leaves herders counting losses",
        ),
        paragraphs=(
            "A drought across Kenya, Somalia and southern Ethiopia deepened this month after the "
            "short rains failed for a third season in a row, pushing maize prices to record "
            "levels in local markets, aid agencies said on Wednesday.",
            "Herders in northern Kenya have lost up to half of their cattle and goats since the "
            "summer, and families are walking for days to reach boreholes that are still "
            "working, according to a survey by relief groups.",
            "The price of a sack of maize in Garissa has more than doubled since June, the survey "
            "found, while the cost of water delivered by truck has tripled in some districts.",
            "Forecasters said there was a good chance of better rains early next year, but warned "
            "that pastures would take many months to recover even if the next season was normal.",
            "Governments in the region have appealed for emergency food aid and asked donors to "
            "fund the repair of water points, many of which broke down under heavy use.",
        ),
    ),
    WireStory(
        key="car-recall",
        agency="Reuters",
        dateline="FRANKFURT",
        headlines=(
            "German carmaker recalls 410,000 vehicles over brake software fault",
            "Brake software glitch triggers mass car recall",
            "Carmaker calls back hundreds of thousands of cars for brake update",
        ),
        paragraphs=(
            "A German carmaker is recalling about 410,000 vehicles worldwide because a software "
            "fault can delay the emergency braking assistant by up to a second, the company said "
            "on Thursday, sending its shares down three percent.",
            "The fault affects compact and mid-sized models built between March and October, and "
            "can be fixed with an update that dealers will install free of charge in about "
            "thirty minutes, the company said in a statement.",
            "The federal motor transport authority said it had been informed of a small number of "
            "minor rear-end collisions that might be linked to the fault, but no injuries had been "
            "reported.",
            "Owners will receive letters from next week, and about a third of the affected cars "
            "can receive the update over the air without a visit to a workshop.",
            "Analysts said the cost of the recall was likely to be modest, but that it came at an "
            "awkward time as the company tries to convince buyers that its new software platform "
            "is reliable.",
        ),
    ),
    WireStory(
        key="copper-mine",
        agency="Reuters",
        dateline="SANTIAGO",
        headlines=(
            "Landslide halts output at Chilean copper mine, no injuries reported",
            "Copper prices rise after slide stops work at Andean mine",
            "Chile mine shut after landslide blocks access road",
        ),
        paragraphs=(
            "A landslide has halted production at a large copper mine in northern Chile, its "
            "operator said on Monday, after thousands of tonnes of rock blocked the main access "
            "road and damaged a conveyor belt that carries ore to the concentrator.",
            "All workers on the night shift were accounted for and no one was hurt, the operator "
            "said, adding that engineers were assessing the stability of the slope before crews "
            "could start clearing the road.",
            "The mine produced about 300,000 tonnes of copper last year, roughly two percent of "
            "global supply, and analysts said a stoppage of more than a few weeks could tighten "
            "an already stretched market.",
            "Benchmark copper prices rose more than one percent in London after the news, "
            "extending gains driven by strong demand from makers of power cables and electric "
            "vehicles.",
            "The operator said it would give an estimate of the lost output once the damage to "
            "the conveyor had been fully surveyed, which it expected to take about a week.",
        ),
    ),
    WireStory(
        key="jet-order",
        agency="Reuters",
        dateline="SINGAPORE",
        headlines=(
            "Asian carrier orders 30 wide-body jets in push for long-haul routes",
            "Airline signs multibillion-dollar order for long-range jets",
            "Thirty new wide-body planes for Asian airline's expansion",
        ),
        paragraphs=(
            "A Southeast Asian airline has ordered thirty wide-body jets worth about nine billion "
            "dollars at list prices, it said on Friday, as it prepares to open new routes to "
            "Europe and the west coast of North America.",
            "The first aircraft are due to be delivered in three years, with the rest arriving "
            "over the following four years, and the order includes options for a further ten "
            "planes, the airline said.",
            "The chief executive told a news conference that demand for long-haul travel had "
            "returned faster than expected and that the new jets would burn about a fifth less "
            "fuel than the ones they replace.",
            "Airlines typically obtain steep discounts on list prices for large orders, and "
            "industry consultants estimated the actual value of the deal at less than half the "
            "headline figure.",
            "The carrier's shares rose two percent in morning trade, while analysts cautioned "
            "that the expansion would add to its debt at a time of high interest rates.",
        ),
    ),
    WireStory(
        key="desert-heat",
        agency="AP",
        dateline="PHOENIX",
        headlines=(
            "Phoenix heat wave sets record as power demand peaks",
            "Record heatwave pushes Arizona grid to the limit",
            "Cooling centers fill as desert heat breaks records",
        ),
        paragraphs=(
            "A heat wave pushed temperatures in Phoenix past 118 degrees on Sunday, breaking a "
            "record for the date that had stood for more than forty years and driving demand for "
            "electricity to an all-time high.",
            "The state's largest utility asked customers to raise thermostats by a few degrees "
            "in the late afternoon and to delay running dishwashers and washing machines until "
            "after dark.",
            "City officials opened extra cooling centers in libraries and community halls and "
            "sent outreach teams to hand out water to people living outdoors, who are most at "
            "risk from heat illness.",
            "Forecasters said the heatwave would ease slightly by midweek but that overnight "
            "temperatures were likely to stay above ninety degrees, giving little relief to "
            "homes without air conditioning.",
            "Hospitals reported a rise in emergency visits for heat exhaustion, mostly among older "
            "residents and outdoor workers, and urged people to check on neighbors living alone.",
        ),
    ),
    WireStory(
        key="satellite-launch",
        agency="AP",
        dateline="WELLINGTON, New Zealand",
        headlines=(
            "Small rocket puts satellites in orbit on its third attempt",
            "Third time lucky for New Zealand launch startup",
            "Launch startup reaches orbit after two failures",
        ),
        paragraphs=(
            "A small rocket built by a New Zealand startup reached orbit on Saturday on its third "
            "attempt, placing four weather and mapping satellites into the planned orbit about "
            "550 kilometers above the Earth.",
            "The company's first two launches had failed, one when an engine shut down early and "
            "the other when the second stage lost pressure, and engineers had redesigned several "
            "valves since the last attempt.",
            "Employees gathered at the company's headquarters cheered as the telemetry showed the "
            "satellites separating from the upper stage, and the chief executive said the team "
            "had earned a long weekend.",
            "The company plans to launch once a month from next year and says it has contracts "
            "for more than twenty missions, mostly for universities and operators of small "
            "Earth observation satellites.",
            "Space industry analysts said the success would help the company raise the money it "
            "needs to build a second launch pad, but that competition for small payloads was "
            "becoming intense.",
        ),
    ),
    WireStory(
        key="stolen-manuscript",
        agency="AFP",
        dateline="PARIS",
        headlines=(
            "Stolen medieval manuscript recovered after 30 years",
            "French police find illuminated psalter taken in 1990s theft",
            "Missing 13th-century book of psalms returns to its library",
        ),
        paragraphs=(
            "French police have recovered an illuminated book of psalms from the thirteenth "
            "century that was stolen from a provincial library more than thirty years ago, the "
            "culture ministry said on Tuesday.",
            "The manuscript, decorated with gold leaf and painted initials, was spotted by a "
            "specialist when a dealer offered it for sale to a collector, and investigators "
            "traced it through several owners in three countries.",
            "The current holder, who bought it in good faith, agreed to return it without "
            "compensation, the ministry said, and no charges have been brought over the original "
            "theft, which is now too old to prosecute.",
            "Curators said the book was in good condition apart from two missing leaves, which "
            "may have been cut out and sold separately, and asked dealers to report any pages "
            "matching its description.",
            "The library plans to put the psalter on public display next spring, alongside "
            "documents from the original police investigation.",
        ),
    ),
    WireStory(
        key="delta-floods",
        agency="AFP",
        dateline="DHAKA",
        headlines=(
            "Floods force 200,000 from their homes in Bangladesh",
            "Monsoon floods swamp villages across the Bangladesh delta",
            "Bangladesh evacuates river islands as flood waters rise",
        ),
        paragraphs=(
            "Floods caused by days of monsoon downpours have forced about 200,000 people from "
            "their homes in northern and central Bangladesh, officials said on Thursday, as "
            "rivers rose above danger levels at dozens of gauging stations.",
            "Boats ferried families and livestock from low-lying river islands to shelters in "
            "schools and government buildings, and the army was deployed to shore up "
            "embankments in two districts.",
            "Disaster management officials said drinking water and dry food were the most urgent "
            "needs, and health workers warned of the risk of diarrhoea once the water begins to "
            "recede.",
            "The flood forecasting centre said the main rivers were expected to keep rising for "
            "another two days because of heavy rainfall upstream in India.",
            "Farmers said the water had submerged newly planted rice seedlings, and that many "
            "would have to replant if the fields drained in time for the season.",
        ),
    ),
    WireStory(
        key="northern-wildfire",
        agency="AP",
        dateline="YELLOWKNIFE, Northwest Territories",
        headlines=(
            "Wildfire forces evacuation of northern Canadian mining town",
            "Thousands flee as wildfire nears remote Canadian town",
            "Residents of Canadian mining town airlifted ahead of wildfire",
        ),
        paragraphs=(
            "A wildfire burning out of control in Canada's Northwest Territories forced the "
            "evacuation of a mining town of about 3,000 people on Wednesday, with military "
            "aircraft flying out residents who could not leave by road.",
            "Officials said the fire was about fifteen kilometers from the edge of town and was "
            "being pushed by strong winds, and that water bombers had been grounded for part of "
            "the day because of thick smoke.",
            "The only highway out of the town was open but traffic was moving slowly, and "
            "volunteers handed out fuel and water to drivers at checkpoints along the route.",
            "Fire crews were cutting breaks in the forest and setting up sprinklers around the "
            "power station and the water treatment plant, the territorial government said.",
            "It is the second year in a row that wildfires have forced large evacuations in the "
            "territory, and residents said many had packed bags ready after last summer's fires.",
        ),
    ),
)

REPORTS: tuple[Report, ...] = (
    Report(
        key="night-buses",
        outlet="harbour-gazette",
        headline="Council approves night bus network for the harbour district",
        byline="Mira Castell",
        paragraphs=(
            "Councillors voted on Monday evening to run buses through the night on four routes "
            "linking the harbour district with the hospital, the university and the northern "
            "estates, starting in the new year.",
            "Shift workers had campaigned for the service for more than two years, saying that "
            "the last bus at half past eleven left nurses, cleaners and kitchen staff paying for "
            "taxis or walking home.",
            "The routes will run every thirty minutes between midnight and five o'clock, paid "
            "for by a small rise in parking charges in the city centre, which opponents said "
            "would hurt shops.",
            "The transport committee will review passenger numbers after six months and may add "
            "a fifth route to the airport if the first four prove popular.",
        ),
    ),
    Report(
        key="drought-herders",
        outlet="valley-post",
        headline="'We have nothing left to sell': herders face a dry winter",
        byline="Our correspondent in Isiolo",
        paragraphs=(
            "At the cattle market in Isiolo, traders say a cow that fetched a good price last year "
            "now sells for a fraction of it, if anyone buys at all, as the drought leaves animals "
            "too thin to be worth slaughtering.",
            "Amina, who keeps goats with her brothers, says the family has sold everything it "
            "could spare and now depends on a water tanker that comes twice a week when the road "
            "is passable.",
            "Local officials are trucking fodder to the worst-hit areas, but herders say it "
            "arrives late and in quantities far too small for the number of animals still alive.",
            "Elders remember dry years before, they say, but never three failed seasons one after "
            "another, and some younger men have left for the towns in search of work.",
        ),
    ),
    Report(
        key="flood-lab",
        outlet="coastline-news",
        headline="University opens flood research centre on the estuary",
        byline="Daniel Okafor",
        paragraphs=(
            "A research centre studying how rising seas and storm surges will affect the estuary "
            "opened on Friday at the university's marine campus, with a wave tank large enough "
            "to test full-size sections of sea wall.",
            "The centre's director said the aim was to give councils better evidence for deciding "
            "where to raise defences and where to let the sea reclaim farmland, a choice that many "
            "coastal communities will face.",
            "Researchers will also map which streets in the old town flood most often during "
            "spring tides, using sensors installed in drains by volunteers from local schools.",
            "The centre was paid for by a regional grant and two engineering firms, and will offer "
            "free advice to homeowners who want to protect their houses from water damage.",
        ),
    ),
    Report(
        key="bakery-award",
        outlet="northfield-courier",
        headline="Northfield bakery's rye loaf named best in the country",
        byline="Lena Brandt",
        paragraphs=(
            "A family bakery on Mill Street has won the national bread awards with a dark rye "
            "loaf made to a recipe the owner's grandmother brought with her when she settled in "
            "the town sixty years ago.",
            "Judges praised the loaf's crust and its slightly sour taste, and said it was the "
            "first time in the competition's history that a bakery with fewer than five staff had "
            "taken the top prize.",
            "The owner said orders had poured in since the announcement and that she would keep "
            "the price unchanged, although customers might have to queue a little longer on "
            "Saturday mornings.",
            "The bakery will represent the country at a European baking fair in the spring, where "
            "it plans to present the rye loaf alongside a new seeded roll.",
        ),
    ),
)

# The demo's topics: one follows an agency through the wire credit, one follows a subject.
WIRE_TOPIC = ("Reuters wire", "wire:Reuters")
SUBJECT_TOPIC = ("Extreme weather", 'drought OR flood* OR heatwave OR "heat wave" OR wildfire*')
